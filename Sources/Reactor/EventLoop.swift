import CEpoll
import Glibc
import Synchronization

/// Something registered with an event loop for a file descriptor.
public protocol EventLoopHandler: AnyObject {
    /// Called on the loop thread with the epoll event mask (`EPOLLIN`, `EPOLLOUT`, `EPOLLHUP`, …).
    func handleEvents(_ events: UInt32)
    /// Called on the loop thread every `sweepIntervalNs`, for timeouts that need no timer of their own.
    func sweep(nowNs: UInt64)
    /// The loop is stopping: release the file descriptor (it is deregistered afterwards in any case).
    func loopDidStop()
}

extension EventLoopHandler {
    public func sweep(nowNs: UInt64) {}
    public func loopDidStop() {}
}

/// Identifies a scheduled timer, for `cancelTimer`.
public struct TimerID: Hashable, Sendable {
    let rawValue: UInt64
}

/// One epoll event loop on its own thread. A connection, a timer or a room belongs to exactly one loop, and all
/// of its state is touched only on that loop's thread (`assertInLoop()`): nothing on the hot path takes a lock.
/// Other threads talk to a loop only through `execute`.
public final class EventLoop: @unchecked Sendable {
    /// Default size of the loop's one read buffer, shared by all its connections.
    public static let readBufferBytesDefault = 256 * 1024
    /// Default period of the housekeeping sweep that drives handshake, idle and close timeouts.
    public static let sweepIntervalNsDefault: UInt64 = 250_000_000
    /// epoll events fetched per wait.
    static let eventsPerWaitMax: Int32 = 512
    /// Events handled between checks for due timers inside one batch (a power of two).
    static let eventsBetweenTimerChecks = 32

    /// This loop's position in its group.
    public let index: Int
    /// The loop's read buffer: valid only during a read callback on this loop.
    public let readBuffer: UnsafeMutableRawBufferPointer
    /// A scratch buffer for framing outgoing messages on this loop (used synchronously, never kept).
    public let scratchBuffer: UnsafeMutableRawBufferPointer
    private let bytesReceived = Atomic<Int>(0)
    private let bytesSent = Atomic<Int>(0)
    /// Bytes read and written by this loop's connections (readable from any thread, for metrics).
    public var bytesReceivedTotal: Int { bytesReceived.load(ordering: .relaxed) }
    public var bytesSentTotal: Int { bytesSent.load(ordering: .relaxed) }
    /// Counts bytes a connection of this loop moved (relaxed atomics: one uncontended add per syscall).
    @inline(__always) func countReceived(_ count: Int) { bytesReceived.add(count, ordering: .relaxed) }
    @inline(__always) func countSent(_ count: Int) { bytesSent.add(count, ordering: .relaxed) }

    /// Masking keys for this loop's client frames (loop thread only).
    private var maskKeys = MaskKeyPool()
    /// A fresh, unpredictable masking key for a client frame (loop thread only).
    func nextMaskKey() -> UInt32 { maskKeys.next() }

    /// Monotonic time at the start of the current loop iteration.
    public private(set) var nowNs: UInt64 = monotonicNowNs()

    private let epollFD: Int32
    private let wakeFD: Int32
    private let sweepIntervalNs: UInt64
    /// How late a timer may fire so that timers due close together share one wake-up (0: on time).
    public let timerSlackNs: UInt64

    private struct Registration {
        var generation: UInt32 = 0
        var handler: EventLoopHandler?
    }
    private var registrations: [Registration] = []
    private var sweepCursor = 0
    /// The sweep interval is split into this many slices.
    static let sweepSlices = 16
    private var registeredCount = 0
    private var generationCounter: UInt32 = 0

    private var timerHeap = TimerHeap()
    private var timerCallbacks: [UInt64: (UInt64) -> Void] = [:]
    private var nextTimerID: UInt64 = 1

    private let pendingTasks = Mutex<[@Sendable () -> Void]>([])
    private let thread = LoopThread()
    private var loopThread: pthread_t?
    private var isRunning = false
    private var stopHooks: [() -> Void] = []

    private let eventScratch: UnsafeMutableRawPointer
    private let eventData: UnsafeMutablePointer<UInt64>
    private let eventMasks: UnsafeMutablePointer<UInt32>

    /// Creates a loop (not yet running). With `timerSlackNs` above 0 the loop sleeps until the earliest timer's
    /// deadline rounded up to a multiple of it, and then runs every timer due: thousands of bots whose input timers
    /// fall within the same millisecond wake the loop once, not once each (the server keeps 0: ticks are on time).
    public init(index: Int = 0, readBufferBytes: Int = readBufferBytesDefault,
                sweepIntervalNs: UInt64 = sweepIntervalNsDefault, timerSlackNs: UInt64 = 0) throws(SystemError) {
        self.index = index
        self.sweepIntervalNs = sweepIntervalNs
        self.timerSlackNs = timerSlackNs
        epollFD = tw_epoll_create()
        guard epollFD >= 0 else { throw SystemError("epoll_create1", errno: tw_errno()) }
        wakeFD = tw_eventfd()
        guard wakeFD >= 0 else { throw SystemError("eventfd", errno: tw_errno()) }
        readBuffer = .allocate(byteCount: readBufferBytes, alignment: 16)
        scratchBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        eventScratch = .allocate(byteCount: tw_epoll_event_size() * Int(Self.eventsPerWaitMax), alignment: 16)
        eventData = .allocate(capacity: Int(Self.eventsPerWaitMax))
        eventMasks = .allocate(capacity: Int(Self.eventsPerWaitMax))
        _ = tw_epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, TW_EPOLLIN, UInt64(UInt32(bitPattern: wakeFD)))
    }

    deinit {
        close(epollFD)
        close(wakeFD)
        readBuffer.deallocate()
        scratchBuffer.deallocate()
        eventScratch.deallocate()
        eventData.deallocate()
        eventMasks.deallocate()
    }

    /// Traps in debug builds when called off this loop's thread.
    @inline(__always)
    public func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? true, "called off its event loop", file: file, line: line)
    }

    /// Traps in every build when called off this loop's thread: for the places where state crosses loops (a
    /// connection handed to its room's loop), where a mistake would be a data race no release check catches.
    /// One `pthread_self` and compare.
    @inline(__always)
    public func preconditionInLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? true, "called off its event loop", file: file, line: line)
    }

    /// True when called on this loop's thread.
    public var isInLoop: Bool { loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }

    /// Number of file descriptors registered by handlers.
    public var registeredHandlerCount: Int { registeredCount }

    // MARK: Registration

    /// Registers `fd` for `events`; the loop holds `handler` strongly until `deregister`.
    public func register(fd: Int32, events: UInt32, handler: EventLoopHandler) throws(SystemError) {
        assertInLoop()
        let slot = Int(fd)
        if slot >= registrations.count {
            registrations.append(contentsOf: repeatElement(Registration(), count: max(slot + 1 - registrations.count, registrations.count)))
        }
        generationCounter &+= 1
        registrations[slot] = Registration(generation: generationCounter, handler: handler)
        guard tw_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, events, epollData(fd: fd, generation: generationCounter)) == 0 else {
            registrations[slot] = Registration()
            throw SystemError("epoll_ctl(ADD)", errno: tw_errno())
        }
        registeredCount += 1
    }

    /// Changes the events `fd` is watched for.
    public func modify(fd: Int32, events: UInt32) {
        assertInLoop()
        let generation = registrations[Int(fd)].generation
        _ = tw_epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, events, epollData(fd: fd, generation: generation))
    }

    /// Stops watching `fd` and releases its handler (the fd is not closed). Events already fetched for it are dropped.
    public func deregister(fd: Int32) {
        assertInLoop()
        let slot = Int(fd)
        guard slot < registrations.count, registrations[slot].handler != nil else { return }
        _ = tw_epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, 0, 0)
        registrations[slot] = Registration()
        registeredCount -= 1
    }

    private func epollData(fd: Int32, generation: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
    }

    // MARK: Cross-thread tasks

    /// Runs `task` on this loop's thread, soon. Safe from any thread; tasks run in the order they were posted.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        let wasEmpty = pendingTasks.withLock { tasks in
            tasks.append(task)
            return tasks.count == 1
        }
        if wasEmpty {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    private func runPendingTasks() {
        var counter: UInt64 = 0
        _ = Glibc.read(wakeFD, &counter, 8)
        let tasks = pendingTasks.withLock { tasks in
            let taken = tasks
            tasks.removeAll()
            return taken
        }
        for task in tasks { task() }
    }

    // MARK: Timers

    /// Calls `callback(deadlineNs)` on this loop at the absolute monotonic `deadlineNs` (or as soon as possible after).
    @discardableResult
    public func scheduleTimer(atNs deadlineNs: UInt64, _ callback: @escaping (UInt64) -> Void) -> TimerID {
        assertInLoop()
        let id = nextTimerID
        nextTimerID += 1
        timerCallbacks[id] = callback
        timerHeap.insert(.init(deadlineNs: deadlineNs, id: id))
        return TimerID(rawValue: id)
    }

    /// Calls `callback(deadlineNs)` at `firstNs`, `firstNs + periodNs`, … on absolute deadlines, so periods do not
    /// drift. A late loop runs missed deadlines back to back; `deadlineNs` lets the callback measure lateness.
    @discardableResult
    public func scheduleRepeating(firstNs: UInt64, periodNs: UInt64, _ callback: @escaping (UInt64) -> Void) -> TimerID {
        precondition(periodNs > 0)
        let id = nextTimerID
        nextTimerID += 1
        func fire(_ deadlineNs: UInt64) {
            callback(deadlineNs)
            guard timerCallbacks[id] != nil else { return }  // cancelled inside the callback
            timerHeap.insert(.init(deadlineNs: deadlineNs + periodNs, id: id))
        }
        timerCallbacks[id] = fire
        timerHeap.insert(.init(deadlineNs: firstNs, id: id))
        return TimerID(rawValue: id)
    }

    /// Cancels a timer; harmless if it already fired.
    public func cancelTimer(_ id: TimerID) {
        assertInLoop()
        timerCallbacks[id.rawValue] = nil
    }

    /// The deadline of the earliest live timer (cancelled ones are dropped on the way), or 0 when there is none.
    private func earliestDeadlineNs() -> UInt64 {
        while let earliest = timerHeap.earliest, timerCallbacks[earliest.id] == nil { _ = timerHeap.popEarliest() }
        return timerHeap.earliest?.deadlineNs ?? 0
    }

    private func runDueTimers() {
        nowNs = monotonicNowNs()
        while let earliest = timerHeap.earliest, earliest.deadlineNs <= nowNs {
            _ = timerHeap.popEarliest()
            guard let callback = timerCallbacks[earliest.id] else { continue }
            callback(earliest.deadlineNs)
        }
    }

    // MARK: Running

    /// Runs `hook` on this loop when it stops (to close its connections cleanly).
    public func onStop(_ hook: @escaping () -> Void) {
        assertInLoop()
        stopHooks.append(hook)
    }

    /// Starts the loop on a new thread.
    public func start() throws(SystemError) {
        try thread.start { [self] in run() }
    }

    /// Runs the loop on the calling thread until `stop()`.
    public func run() {
        loopThread = pthread_self()
        isRunning = true
        if sweepIntervalNs > 0 {
            let slicePeriodNs = max(sweepIntervalNs / UInt64(Self.sweepSlices), 1)
            scheduleRepeating(firstNs: monotonicNowNs() + slicePeriodNs, periodNs: slicePeriodNs) { [unowned self] _ in
                sweepNextSlice()
            }
        }
        while isRunning {
            // Timers are the wait's timeout (no timerfd: arming and reading one cost two syscalls per firing).
            let deadlineNs = Self.wakeNs(forDeadlineNs: earliestDeadlineNs(), slackNs: timerSlackNs)
            let timeoutNs: Int64
            if deadlineNs == 0 {
                timeoutNs = -1
            } else {
                let now = monotonicNowNs()
                timeoutNs = deadlineNs > now ? Int64(deadlineNs - now) : 0
            }
            let count = tw_epoll_wait_ns(epollFD, eventScratch.assumingMemoryBound(to: epoll_event.self), Self.eventsPerWaitMax,
                                         eventData, eventMasks, timeoutNs)
            if count < 0 {
                if tw_errno() == EINTR { continue }
                fatalError("epoll_wait: \(SystemError("epoll_wait", errno: tw_errno()))")
            }
            nowNs = monotonicNowNs()
            for eventIndex in 0..<Int(count) {
                dispatch(data: eventData[eventIndex], events: eventMasks[eventIndex])
                // A burst of work (a crowd connecting) must not delay ticks behind a whole batch of events:
                // every few events, run any timer that has come due.
                if eventIndex & (Self.eventsBetweenTimerChecks - 1) == Self.eventsBetweenTimerChecks - 1 {
                    nowNs = monotonicNowNs()
                    if let earliest = timerHeap.earliest, nowNs >= earliest.deadlineNs { runDueTimers() }
                }
            }
            runDueTimers()
        }
        for hook in stopHooks { hook() }
        stopHooks.removeAll()
        timerCallbacks.removeAll()
        for slot in registrations.indices {
            registrations[slot].handler?.loopDidStop()
            deregister(fd: Int32(slot))
        }
    }

    /// When to wake for a timer due at `deadlineNs` (0: none): the deadline itself, or with slack the next multiple
    /// of the slack at or after it, so that deadlines in the same slack window share a wake-up.
    static func wakeNs(forDeadlineNs deadlineNs: UInt64, slackNs: UInt64) -> UInt64 {
        guard deadlineNs > 0, slackNs > 1 else { return deadlineNs }
        let remainderNs = deadlineNs % slackNs
        guard remainderNs > 0 else { return deadlineNs }
        let (wakeNs, overflowed) = (deadlineNs - remainderNs).addingReportingOverflow(slackNs)
        return overflowed ? deadlineNs : wakeNs
    }

    @inline(__always)
    private func dispatch(data: UInt64, events: UInt32) {
        let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: data))
        if fd == wakeFD { return runPendingTasks() }
        let slot = Int(fd)
        guard slot < registrations.count, registrations[slot].generation == UInt32(truncatingIfNeeded: data >> 32),
              let handler = registrations[slot].handler else { return }
        handler.handleEvents(events)
    }

    /// Visits the next 1/`sweepSlices` of the registrations, so every handler is swept once per
    /// `sweepIntervalNs` but no single sweep stalls the loop (10,000 connections going idle together would
    /// otherwise all be pinged in one callback).
    private func sweepNextSlice() {
        let now = monotonicNowNs()
        let sliceLength = (registrations.count + Self.sweepSlices - 1) / Self.sweepSlices
        var visited = 0
        while visited < sliceLength && !registrations.isEmpty {
            if sweepCursor >= registrations.count { sweepCursor = 0 }
            if let handler = registrations[sweepCursor].handler { handler.sweep(nowNs: now) }
            sweepCursor += 1
            visited += 1
        }
    }

    /// Asks the loop to stop after its current iteration (runs stop hooks, then returns from `run`). Any thread.
    public func stop() {
        execute { [self] in isRunning = false }
    }

    /// Waits for the loop's thread to end (after `stop()`).
    public func join() { thread.join() }
}
