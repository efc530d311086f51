import Engine

/// How a room runs. Every value is a `tickwire serve` flag with this default.
public struct RoomSettings: Sendable, Equatable {
    /// Simulation ticks per second (`--tick-rate`, 1...240).
    public var tickRateHz = 60
    /// A snapshot every this many ticks (`--snapshot-every`; 1 = every tick, 3 = 20 Hz at 60 Hz).
    public var snapshotEveryTicks = 1
    /// Inputs buffered per player; more are dropped and counted (`--input-buffer`).
    public var inputBufferMax = 8
    /// How far back a client's acknowledged snapshot may be and still serve as a baseline (`--baseline-window-ms`).
    public var baselineWindowTicks = 120
    /// Half the width and height of what a player sees, in world units: the interest area around its avatar.
    public var viewHalfExtent = FixedVector(x: 900, y: 600)
    /// Views are aligned to cells this large, so nearby players share one encoded snapshot.
    public var viewCellSize: Fixed = 200

    public init() {}
}
