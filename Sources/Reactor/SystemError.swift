import Glibc

/// A failed system call: which call, and errno.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call that failed, e.g. `bind`.
    public var call: String
    /// The errno value.
    public var errno: Int32

    /// Wraps an errno from `call`.
    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}
