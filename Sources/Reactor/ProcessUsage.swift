import Glibc

/// This process's CPU time and resident memory: the server's `/metrics` and the load generator's own figures (a
/// saturated load generator must not pass for a slow server).
public struct ProcessUsage: Sendable, Equatable {
    /// User and system CPU time of all threads so far, in nanoseconds.
    public var cpuNs: UInt64
    /// Resident set size in bytes (0 when `/proc/self/statm` cannot be read).
    public var residentBytes: UInt64

    public init(cpuNs: UInt64, residentBytes: UInt64) {
        self.cpuNs = cpuNs
        self.residentBytes = residentBytes
    }

    /// The figures now.
    public static func current() -> ProcessUsage {
        var time = timespec()
        let cpuNs = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time) == 0 ? UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec) : 0
        return ProcessUsage(cpuNs: cpuNs, residentBytes: residentPages() * UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 0)))
    }

    /// File descriptors this process holds (entries of `/proc/self/fd`, less the one reading it), or -1.
    public static func openFileDescriptorCount() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0[0] }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return count - 1
    }

    /// The second field of `/proc/self/statm` (resident pages), or 0.
    private static func residentPages() -> UInt64 {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        return parseResidentPages(buffer[..<count])
    }

    /// `size resident shared text lib data dt`, in pages: the second number, or 0 when there is none.
    static func parseResidentPages(_ statm: ArraySlice<UInt8>) -> UInt64 {
        var field = 0
        var value: UInt64 = 0
        var inNumber = false
        for byte in statm {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if !inNumber { inNumber = true; value = 0 }
                let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowSum) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflowTimes && !overflowSum else { return 0 }
                value = sum
            } else {
                if inNumber {
                    if field == 1 { return value }
                    field += 1
                }
                inNumber = false
            }
        }
        return inNumber && field == 1 ? value : 0
    }
}
