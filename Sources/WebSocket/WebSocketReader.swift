/// What the reader found. Buffers point into the caller's input or the reader's own storage and are valid
/// only until the next call to `next`.
public enum WebSocketEvent {
    /// A complete text message (already checked to be UTF-8).
    case text(UnsafeRawBufferPointer)
    /// A complete binary message.
    case binary(UnsafeRawBufferPointer)
    /// A ping; answer with a pong carrying the same bytes.
    case ping(UnsafeRawBufferPointer)
    /// A pong.
    case pong(UnsafeRawBufferPointer)
    /// A valid close frame; `code` is nil when the frame had no payload. The reader ignores input after it.
    case close(code: UInt16?, reason: UnsafeRawBufferPointer)
}

/// The result of one `next` call.
public enum WebSocketReadResult {
    /// An event; call `next` again with the same input.
    case event(WebSocketEvent)
    /// Everything from the input is consumed; call again when more bytes arrive.
    case needMoreInput
    /// The peer broke the protocol; fail the connection with `error.closeCode`. Every later call repeats it.
    case failed(WebSocketError)
}

/// Incremental RFC 6455 frame decoder and message assembler for one connection, in either role.
///
/// Feed it any split of the byte stream. It unmasks in place, checks every rule of §5 as soon as the bytes
/// that break it arrive (UTF-8 included, across fragments), enforces the size limits from the frame header
/// before allocating, and hands out whole messages: without copying when a message is one frame inside one
/// read, otherwise from its own buffer. Holds no storage while idle.
public struct WebSocketReader {
    private enum Phase { case header, payload, closed }

    /// Which end we are: servers require masked frames, clients refuse them.
    public let role: WebSocketRole
    /// The size limits in force.
    public var limits: WebSocketLimits

    private var phase = Phase.header
    private var failure: WebSocketError?

    // The frame header being read.
    private var headerScratch: (UInt64, UInt64) = (0, 0)
    private var headerFill = 0
    private var headerNeeded = 2

    // The frame whose payload is being read.
    private var frameFin = false
    private var frameOpcode = WebSocketOpcode.continuation
    private var frameMaskKey: UInt32?
    private var frameLength = 0
    private var framePayloadRemaining = 0
    private var framePayloadStartsInThisInput = false

    // The data message being assembled.
    private var messageOpcode: WebSocketOpcode?
    private var messageBytes = 0
    private var messageUTF8 = UTF8Validator()
    private var messageStorage: ByteAccumulator?
    private var controlStorage: ByteAccumulator?
    private var storageToResetBeforeNext = false

    /// Keep a message buffer this large between messages; free larger ones so idle connections stay small.
    private static let retainedBufferBytesMax = 4096

    /// A reader for one connection.
    public init(role: WebSocketRole, limits: WebSocketLimits = WebSocketLimits()) {
        self.role = role
        self.limits = limits
    }

    /// True once a valid close frame has been read.
    public var hasReadClose: Bool { phase == .closed }

    /// True while a fragmented message is open.
    public var isInsideMessage: Bool { messageOpcode != nil }

    /// True between frames with no message open: nothing the peer started is unfinished.
    public var isBetweenMessages: Bool { messageOpcode == nil && phase != .payload && headerFill == 0 }

    /// Bytes of the open message held so far (0 when it is delivered without a copy).
    public var heldMessageBytes: Int { messageStorage?.capacity ?? 0 }

    /// Reads from `input[offset...]`, advancing `offset`, until one event, the end of the input, or an error.
    public mutating func next(_ input: UnsafeMutableRawBufferPointer, offset: inout Int) -> WebSocketReadResult {
        if let failure { return .failed(failure) }
        if storageToResetBeforeNext { resetMessageStorage() }
        guard phase != .closed else {
            offset = input.count
            return .needMoreInput
        }
        while offset < input.count {
            switch phase {
            case .header:
                if let error = readHeaderBytes(input, &offset) { return fail(error) }
                guard headerFill == headerNeeded else { continue }
                if let error = beginFrame(payloadStartsAt: offset, inputCount: input.count) { return fail(error) }
                if frameLength == 0 {
                    if let result = finishFrame(chunk: UnsafeMutableRawBufferPointer(start: nil, count: 0)) { return result }
                } else {
                    phase = .payload
                }
            case .payload:
                let take = min(input.count - offset, framePayloadRemaining)
                let chunk = UnsafeMutableRawBufferPointer(rebasing: input[offset..<offset + take])
                if let key = frameMaskKey {
                    WebSocketMask.apply(key: key, to: chunk, offset: frameLength - framePayloadRemaining)
                }
                offset += take
                framePayloadRemaining -= take
                if let result = finishFrame(chunk: chunk) { return result }
            case .closed:
                offset = input.count
            }
        }
        return .needMoreInput
    }

    private mutating func fail(_ error: WebSocketError) -> WebSocketReadResult {
        failure = error
        messageStorage = nil
        controlStorage = nil
        return .failed(error)
    }

    /// Copies header bytes into the scratch, checking each rule as soon as its byte is known.
    private mutating func readHeaderBytes(_ input: UnsafeMutableRawBufferPointer, _ offset: inout Int) -> WebSocketError? {
        while headerFill < headerNeeded && offset < input.count {
            let byte = input[offset]
            withUnsafeMutableBytes(of: &headerScratch) { $0[headerFill] = byte }
            headerFill += 1
            offset += 1
            if headerFill == 1 {
                if byte & 0x70 != 0 { return .reservedBitsSet }
                guard let opcode = WebSocketOpcode(rawValue: byte & 0x0F) else { return .reservedOpcode(byte & 0x0F) }
                if opcode.isControl && byte & 0x80 == 0 { return .fragmentedControlFrame }
                if opcode == .continuation && messageOpcode == nil { return .unexpectedContinuation }
                if (opcode == .text || opcode == .binary) && messageOpcode != nil { return .expectedContinuation }
            } else if headerFill == 2 {
                let masked = byte & 0x80 != 0
                if role == .server && !masked { return .unmaskedClientFrame }
                if role == .client && masked { return .maskedServerFrame }
                let length7 = Int(byte & 0x7F)
                let opcode = WebSocketOpcode(rawValue: withUnsafeBytes(of: headerScratch) { $0[0] } & 0x0F)!
                if opcode.isControl && length7 > 125 { return .controlFrameTooLong(length7) }
                headerNeeded = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0)
            }
        }
        return nil
    }

    /// Decodes a complete header and checks lengths and limits before any payload is stored.
    private mutating func beginFrame(payloadStartsAt offset: Int, inputCount: Int) -> WebSocketError? {
        let (first, second, length, maskKey): (UInt8, UInt8, UInt64, UInt32?) = withUnsafeBytes(of: headerScratch) { bytes in
            let length7 = bytes[1] & 0x7F
            var length = UInt64(length7)
            var cursor = 2
            if length7 == 126 {
                length = UInt64(UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
                cursor = 4
            } else if length7 == 127 {
                length = 0
                for index in 2..<10 { length = length << 8 | UInt64(bytes[index]) }
                cursor = 10
            }
            let key: UInt32? = bytes[1] & 0x80 != 0 ? bytes.loadUnaligned(fromByteOffset: cursor, as: UInt32.self) : nil
            return (bytes[0], bytes[1], length, key)
        }
        _ = second
        headerFill = 0
        headerNeeded = 2
        guard length & (1 << 63) == 0 else { return .invalidPayloadLength }
        guard length <= UInt64(limits.frameBytesMax) else {
            return .frameTooLarge(lengthBytes: length, limitBytes: limits.frameBytesMax)
        }
        let opcode = WebSocketOpcode(rawValue: first & 0x0F)!
        if !opcode.isControl {
            if opcode != .continuation {
                messageOpcode = opcode
                messageBytes = 0
                messageUTF8 = UTF8Validator()
            }
            guard messageBytes + Int(length) <= limits.messageBytesMax else {
                return .messageTooLarge(limitBytes: limits.messageBytesMax)
            }
        }
        frameFin = first & 0x80 != 0
        frameOpcode = opcode
        frameMaskKey = maskKey.map { UInt32(littleEndian: $0) }
        frameLength = Int(length)
        framePayloadRemaining = frameLength
        framePayloadStartsInThisInput = inputCount - offset >= frameLength
        return nil
    }

    /// Takes one payload chunk of the current frame; returns a result when the frame yields one.
    private mutating func finishFrame(chunk: UnsafeMutableRawBufferPointer) -> WebSocketReadResult? {
        let frameDone = framePayloadRemaining == 0
        if frameDone { phase = .header }
        let whole = frameDone && framePayloadStartsInThisInput
        if frameOpcode.isControl {
            if whole { return controlEvent(UnsafeRawBufferPointer(chunk)) }
            let storage = controlStorage ?? ByteAccumulator(capacity: 125)
            controlStorage = storage
            storage.append(UnsafeRawBufferPointer(chunk))
            guard frameDone else { return nil }
            let result = controlEvent(storage.bytes)
            storage.removeAll()
            return result
        }
        if messageOpcode == .text {
            guard messageUTF8.validate(UnsafeRawBufferPointer(chunk)) else { return fail(.invalidUTF8) }
        }
        messageBytes += chunk.count
        let messageDone = frameDone && frameFin
        if messageDone && whole && (messageStorage?.count ?? 0) == 0 {
            return completeMessage(UnsafeRawBufferPointer(chunk))
        }
        let storage = messageStorage ?? ByteAccumulator(capacity: min(messageBytes + framePayloadRemaining, Self.retainedBufferBytesMax))
        messageStorage = storage
        // No reservation of the declared length: a peer that declares a large frame and sends it slowly (or never)
        // makes the reader hold only what actually arrived.
        storage.append(UnsafeRawBufferPointer(chunk))
        guard messageDone else { return nil }
        storageToResetBeforeNext = true
        return completeMessage(storage.bytes)
    }

    private mutating func completeMessage(_ payload: UnsafeRawBufferPointer) -> WebSocketReadResult {
        let opcode = messageOpcode
        messageOpcode = nil
        if opcode == .text {
            guard messageUTF8.isAtCharacterBoundary else { return fail(.invalidUTF8) }
            return .event(.text(payload))
        }
        return .event(.binary(payload))
    }

    private mutating func controlEvent(_ payload: UnsafeRawBufferPointer) -> WebSocketReadResult {
        switch frameOpcode {
        case .ping: return .event(.ping(payload))
        case .pong: return .event(.pong(payload))
        default:
            if payload.isEmpty {
                phase = .closed
                return .event(.close(code: nil, reason: payload))
            }
            guard payload.count >= 2 else { return fail(.closePayloadTooShort) }
            let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
            guard WebSocketCloseCode.isValidOnWire(code) else { return fail(.invalidCloseCode(code)) }
            let reason = UnsafeRawBufferPointer(rebasing: payload[2...])
            var validator = UTF8Validator()
            guard validator.validate(reason), validator.isAtCharacterBoundary else { return fail(.invalidCloseReason) }
            phase = .closed
            return .event(.close(code: code, reason: reason))
        }
    }

    private mutating func resetMessageStorage() {
        storageToResetBeforeNext = false
        if let storage = messageStorage, storage.capacity > Self.retainedBufferBytesMax {
            messageStorage = nil
        } else {
            messageStorage?.removeAll()
        }
    }
}
