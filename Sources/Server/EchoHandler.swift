import Reactor
import WebSocket

/// The echo endpoint (`--echo-path`): every message comes back unchanged, with its type. A client that does
/// not read its echoes is paused (we stop reading from it) instead of growing our write queue.
final class EchoHandler: WebSocketChannelHandler {
    private unowned let context: ServerLoopContext

    init(context: ServerLoopContext) { self.context = context }

    func channel(_ channel: WebSocketChannel, didReceiveText bytes: UnsafeRawBufferPointer) {
        channel.send(.text, bytes)
    }

    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) {
        channel.send(.binary, bytes)
    }

    func channel(_ channel: WebSocketChannel, didChangeWritability isWritable: Bool) {
        if isWritable { channel.connection.resumeReading() } else { channel.connection.pauseReading() }
    }

    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) {
        context.channelClosed(channel, code: code)
    }
}
