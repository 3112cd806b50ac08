import QGAProtocol
import QGASystem

/// Why a call to a guest agent failed: the client layer's one error type, with a code that
/// the command line turns into its exit status in one place.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The agent answered with an error reply.
        case agentError(AgentError)
        /// The agent cannot be reached: no socket, refused, not configured, not connected.
        case unreachable
        /// The agent did not answer in time (sync or command).
        case notResponding
        /// The agent broke the protocol: malformed, oversized or unexpected reply.
        case protocolViolation
        /// The request itself is not acceptable (found before anything was sent).
        case invalidRequest
        /// A host-side operation failed: libvirt refused it, a snapshot could not be taken.
        case operationFailed
    }

    public let code: Code
    public let message: String
    /// What caused it, when the cause is another layer's error.
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}
