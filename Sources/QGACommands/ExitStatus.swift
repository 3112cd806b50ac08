import ArgumentParser
import QGAClient
import QGASystem

/// The exit codes `qga` documents, and the translation of every error into one of them.
public enum ExitCodes {
    public static let success: Int32 = 0
    public static let agentError: Int32 = 1
    public static let unreachable: Int32 = 2
    public static let notResponding: Int32 = 3
    public static let protocolViolation: Int32 = 4
    public static let operationFailed: Int32 = 5
    /// freeze-run: the thaw failed; the guest may still be frozen.
    public static let stillFrozen: Int32 = 6
    /// freeze-run: the guest stayed frozen for --max-frozen; qga thawed it and stopped the command.
    public static let frozenTooLong: Int32 = 124
    public static let usage: Int32 = 64
}

/// What a failure means for the process: its exit code and the line for stderr.
struct ExitStatus {
    var code: Int32
    var message: String?
    /// Lines after the message, each written on its own (`CommandFailure.notes`).
    var notes: [String] = []
    /// Errors that ArgumentParser reports itself (usage, help, `ExitCode`).
    var argumentParserError: (any Error)?

    init(_ error: any Error) {
        switch error {
        case let error as ClientError:
            message = "qga: \(error.message)"
            switch error.code {
            case .agentError(let agentError):
                code = ExitCodes.agentError
                message = "qga: \(agentError.errorClass): \(agentError.desc)"
            case .unreachable: code = ExitCodes.unreachable
            case .notResponding: code = ExitCodes.notResponding
            case .protocolViolation: code = ExitCodes.protocolViolation
            case .invalidRequest: code = ExitCodes.usage
            case .operationFailed: code = ExitCodes.operationFailed
            }
        case let failure as CommandFailure:
            code = failure.code
            message = failure.message.map { "qga: \($0)" }
            notes = failure.notes.map { "qga: \($0)" }
        case let exit as ExitCode:
            code = exit.rawValue
        case let error as SystemError:
            code = ExitCodes.operationFailed
            message = "qga: \(error)"
        case is ValidationError, is CleanExit:
            code = ExitCodes.usage
            argumentParserError = error
        default:
            // ArgumentParser's own parse errors; anything else would be a bug, reported as 5.
            if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
                code = ExitCodes.usage
                argumentParserError = error
            } else {
                code = ExitCodes.operationFailed
                message = "qga: \(error)"
            }
        }
    }
}
