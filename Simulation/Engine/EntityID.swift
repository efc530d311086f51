/// A generational handle to an entity: a slot index plus the generation of the entity in that slot, so a stale
/// handle to a removed entity never reaches the entity that reuses its slot.
public struct EntityID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The slot.
    public var index: UInt32
    /// Bumped each time the slot is reused.
    public var generation: UInt32

    @inlinable public init(index: UInt32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }

    public static func < (a: EntityID, b: EntityID) -> Bool { (a.index, a.generation) < (b.index, b.generation) }

    public var description: String { "#\(index).\(generation)" }
}

/// Entities of one kind in dense slots with a free list; iteration is in slot order, so it is deterministic.
/// Bounded: `insert` returns nil once `capacity` entities are live.
/// Inlinable so that games in other modules get it specialised for their entity type (unspecialised, every
/// access goes through generic value witnesses and costs several times more).
public struct EntityStore<Value> {
    @usableFromInline
    struct Slot {
        @usableFromInline var generation: UInt32
        @usableFromInline var value: Value?
        @inlinable init(generation: UInt32, value: Value?) {
            self.generation = generation
            self.value = value
        }
    }

    @usableFromInline var slots: [Slot] = []
    @usableFromInline var freeSlots: [UInt32] = []
    @usableFromInline var liveCount = 0
    /// Live entities.
    @inlinable public var count: Int { liveCount }
    /// The most live entities at once.
    public let capacity: Int

    /// An empty store holding at most `capacity` entities.
    @inlinable
    public init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(UInt32.max))
        self.capacity = capacity
    }

    /// Adds `value`; nil when the store is full.
    @inlinable
    public mutating func insert(_ value: Value) -> EntityID? {
        if let index = freeSlots.popLast() {
            slots[Int(index)].generation &+= 1
            slots[Int(index)].value = value
            liveCount += 1
            return EntityID(index: index, generation: slots[Int(index)].generation)
        }
        guard slots.count < capacity else { return nil }
        slots.append(Slot(generation: 0, value: value))
        liveCount += 1
        return EntityID(index: UInt32(slots.count - 1), generation: 0)
    }

    /// Removes the entity; returns its value, or nil if `id` is stale or unknown.
    @inlinable
    @discardableResult
    public mutating func remove(_ id: EntityID) -> Value? {
        guard contains(id) else { return nil }
        let value = slots[Int(id.index)].value
        slots[Int(id.index)].value = nil
        freeSlots.append(id.index)
        liveCount -= 1
        return value
    }

    /// True if `id` names a live entity.
    @inlinable
    public func contains(_ id: EntityID) -> Bool {
        Int(id.index) < slots.count && slots[Int(id.index)].generation == id.generation && slots[Int(id.index)].value != nil
    }

    /// The entity's value (nil if stale); setting nil removes it, setting a value on a stale id does nothing.
    @inlinable
    public subscript(id: EntityID) -> Value? {
        get { contains(id) ? slots[Int(id.index)].value : nil }
        set {
            guard contains(id) else { return }
            if let newValue { slots[Int(id.index)].value = newValue } else { remove(id) }
        }
    }

    /// Live ids in slot order.
    @inlinable
    public var ids: [EntityID] {
        slots.indices.compactMap { index in
            slots[index].value == nil ? nil : EntityID(index: UInt32(index), generation: slots[index].generation)
        }
    }

    /// Calls `body` with every live entity in slot order (no array of ids is made).
    @inlinable
    public func forEachLive(_ body: (EntityID, Value) -> Void) {
        for index in slots.indices {
            if let value = slots[index].value { body(EntityID(index: UInt32(index), generation: slots[index].generation), value) }
        }
    }

    /// Calls `body` with every live entity in slot order, allowing changes to its value.
    @inlinable
    public mutating func updateEach(_ body: (EntityID, inout Value) -> Void) {
        for index in slots.indices where slots[index].value != nil {
            body(EntityID(index: UInt32(index), generation: slots[index].generation), &slots[index].value!)
        }
    }
}
