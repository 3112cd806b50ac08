import ArgumentParser
import QGAClient
import QGAProtocol

/// What several targets print and how they end: per target a JSON line or a message, then
/// one exit status for all (`FanOut.summary`).
struct FanOutReport {
    /// Each target's exit code, in the targets' order.
    private(set) var codes: [Int32] = []

    /// The JSON line of a target's value: `{"target":...,"return":...}`, with "connect"
    /// naming the URI when several -c are given.
    static func jsonLine(_ target: FanOutTarget, value: JSONValue) -> JSONValue {
        .object(head(target) + [("return", value)])
    }

    /// The JSON line of a target's failure: `{"target":...,"error":{"class","desc","exit"}}`;
    /// the class is the agent's for its own errors, else the kind of failure.
    static func jsonLine(_ target: FanOutTarget, error: any Error) -> JSONValue {
        let status = ExitStatus(error)
        let errorClass: String
        let desc: String
        switch error {
        case let error as ClientError:
            switch error.code {
            case .agentError(let agentError):
                errorClass = agentError.errorClass
                desc = agentError.desc
            case .unreachable: (errorClass, desc) = ("Unreachable", error.message)
            case .notResponding: (errorClass, desc) = ("NotResponding", error.message)
            case .protocolViolation: (errorClass, desc) = ("ProtocolViolation", error.message)
            case .invalidRequest: (errorClass, desc) = ("InvalidRequest", error.message)
            case .operationFailed: (errorClass, desc) = ("OperationFailed", error.message)
            }
        default:
            errorClass = "Failed"
            desc = message(status) ?? "failed with exit status \(status.code)"
        }
        let details: JSONObject = ["class": .string(errorClass), "desc": .string(desc), "exit": .number(JSONNumber(Int64(status.code)))]
        return .object(head(target) + [("error", .object(details))])
    }

    private static func head(_ target: FanOutTarget) -> JSONObject {
        var object: JSONObject = ["target": .string(target.name)]
        if let uri = target.uri { object.append(key: "connect", value: .string(uri)) }
        return object
    }

    /// `ExitStatus`'s message without its "qga: ".
    private static func message(_ status: ExitStatus) -> String? {
        status.message.map { $0.hasPrefix("qga: ") ? String($0.dropFirst(5)) : $0 }
    }

    /// Records a target's success.
    mutating func succeeded() { codes.append(0) }

    /// Records a target's exit code (a guest command's, for run).
    mutating func finished(_ code: Int32) { codes.append(code) }

    /// Records a target's failure and reports it: as a JSON line on stdout with `json`,
    /// else as `qga: TARGET: message` (and its notes) on stderr. Returns its exit code.
    @discardableResult
    mutating func failed(_ target: FanOutTarget, _ error: any Error, json: JSONPrinter? = nil) throws -> Int32 {
        let status = ExitStatus(error)
        codes.append(status.code)
        if let json {
            try Console.print(FanOutReport.jsonLine(target, error: error), with: json)
        } else {
            report(target, status)
        }
        return status.code
    }

    /// Writes a failure's lines for `target` on stderr as `qga: TARGET: message`; a message
    /// that already starts with the target's name does not repeat it.
    func report(_ target: FanOutTarget, _ status: ExitStatus) {
        let lines = [FanOutReport.message(status) ?? "failed with exit status \(status.code)"]
            + status.notes.map { $0.hasPrefix("qga: ") ? String($0.dropFirst(5)) : $0 }
        for line in lines {
            let own = line.hasPrefix(target.name + ": ") ? String(line.dropFirst(target.name.count + 2)) : line
            Console.error("qga: \(target.label): \(own)")
        }
    }

    /// Ends the command: nothing when every target succeeded; otherwise the summary line and
    /// the first failing target's exit code.
    func finish() throws {
        let (code, failed) = FanOut.summary(codes)
        guard failed > 0 else { return }
        Console.error("qga: \(failed) of \(codes.count) targets failed")
        throw ExitCode(code)
    }
}

extension JSONObject {
    /// The object with `members` appended, in order.
    fileprivate static func + (object: JSONObject, members: [(String, JSONValue)]) -> JSONObject {
        var object = object
        for (key, value) in members { object.append(key: key, value: value) }
        return object
    }
}
