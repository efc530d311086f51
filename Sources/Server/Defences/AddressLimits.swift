/// What one client address may hold and do, whatever it connects to. Flags of `tickwire serve` with these
/// defaults (docs/operations.md, "Limits and defences"). Generous enough for players behind one NAT (a LAN
/// party, a campus); far below what it takes one address to fill a server.
public struct AddressLimits: Sendable, Equatable {
    /// Connections open at once from one address, in every state until the socket is closed:
    /// `--max-connections-per-address`. More are answered 503 (or closed at once when over by far).
    public var connectionsMax = 256
    /// HTTP requests and WebSocket handshakes per second from one address after a burst: `--requests-per-second-per-address`.
    public var requestsPerSecond = 50
    /// The burst: `--request-burst-per-address`. More get 429.
    public var requestBurst = 200
    /// Rooms one address may create per minute after a burst: `--rooms-created-per-minute-per-address`.
    public var roomsCreatedPerMinute = 30
    /// The burst: `--room-create-burst-per-address`. More get 429.
    public var roomsCreatedBurst = 10
    /// Addresses tracked at once: `--addresses-tracked-max`. An address is tracked while it has connections or
    /// an unrefilled budget; when the table is full a new address is refused (503) until entries expire.
    public var addressesTrackedMax = 100_000
    /// Peers whose `X-Forwarded-For` is believed (a reverse proxy in front): `--trusted-proxy ADDR`, repeatable.
    /// Their connections are charged to the forwarded client address instead of their own.
    public var trustedProxies: [String] = []
    /// Addresses no per-address limit applies to: `--exempt-address ADDR`, repeatable (a load generator on the
    /// same machine; the server's global limits still apply).
    public var exemptAddresses: [String] = []

    /// The documented defaults.
    public init() {}
}
