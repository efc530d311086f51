import CEpoll

/// Nanoseconds on CLOCK_MONOTONIC: the clock for ticks, timeouts and latencies (never the wall clock).
@inline(__always)
public func monotonicNowNs() -> UInt64 { tw_monotonic_ns() }
