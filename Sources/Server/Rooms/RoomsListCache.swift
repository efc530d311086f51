import Synchronization
import WebSocket

/// `GET /rooms`, rendered at most once per `ttlNs` for every loop together: with a thousand rooms the JSON is a
/// few hundred kilobytes, which a client asking in a loop would otherwise have the server build on every request.
final class RoomsListCache: Sendable {
    private let ttlNs: UInt64
    private let cached = Mutex<(renderedNs: UInt64, response: [UInt8])?>(nil)

    init(ttlNs: UInt64) { self.ttlNs = ttlNs }

    /// The whole HTTP response (head and body), fresh within `ttlNs` of `nowNs`.
    func response(directory: RoomDirectory, nowNs: UInt64) -> [UInt8] {
        if let hit = cached.withLock({ entry -> [UInt8]? in
            guard let entry, nowNs < entry.renderedNs &+ ttlNs else { return nil }
            return entry.response
        }) { return hit }
        let response = HTTPResponse(status: 200, body: Array(RoomsJSON.render(directory.summaries()).utf8),
                                    contentType: "application/json").serialized()
        cached.withLock { $0 = (nowNs, response) }
        return response
    }
}
