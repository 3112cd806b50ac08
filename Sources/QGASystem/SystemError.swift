import Glibc
import SystemPackage

/// A failed system call: which operation, on what, and the `Errno` it returned.
///
/// The system layer's one error type. Deadlines that pass surface as `Errno.timedOut`.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being done, for example "connect" or "read".
    public let operation: String
    /// What the call failed with.
    public let errno: Errno
    /// The path or address involved, when there is one.
    public let subject: String?

    /// The failure of `operation` (on `subject`, if given) with `errno`.
    public init(_ operation: String, _ errno: Errno, subject: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.subject = subject
    }

    /// True when the operation stopped because its deadline passed.
    public var isTimeout: Bool { errno == .timedOut }

    /// "operation subject: reason" (the subject only when there is one).
    public var description: String {
        let reason = isTimeout ? "timed out" : errno.description
        if let subject { return "\(operation) \(subject): \(reason)" }
        return "\(operation): \(reason)"
    }
}

extension Errno {
    /// The calling thread's `errno`, read right after a failed call.
    static var last: Errno { Errno(rawValue: errno) }
}
