/// Everything that can go wrong while framing, parsing or interpreting protocol messages.
///
/// This is the protocol layer's one error type; the client and the daemon translate it once
/// at their own boundary (an exit code, or an error reply).
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The bytes are not JSON.
        case invalidJSON
        /// A string holds bytes that are not UTF-8.
        case invalidUTF8
        /// Objects and arrays nest deeper than the limit.
        case nestingTooDeep
        /// A message grew past the size limit before it ended.
        case messageTooLarge
        /// A message holds more tokens than the limit (each one costs memory once parsed).
        case tooManyTokens
        /// Valid JSON, but not a well-formed request or reply.
        case invalidMessage
    }

    public let code: Code
    public let message: String
    /// Byte offset in the message where the problem was seen, when known.
    public let offset: Int?

    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { "\(message) (at byte \(offset))" } else { message }
    }
}
