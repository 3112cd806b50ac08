import QGAClient
import QGAProtocol

/// Turns `exec`'s words into a request: a command name with `NAME=VALUE` (string) and
/// `NAME:=JSON` arguments (HTTPie's convention) and an optional `--args` object, or one
/// whole JSON request as virsh takes it.
enum RequestBuilder {
    static func build(command: String, arguments: [String], argsJSON: String?) throws(ClientError) -> Request {
        if command.first == "{" {
            guard arguments.isEmpty, argsJSON == nil else {
                throw ClientError(.invalidRequest, "a whole JSON request takes no further arguments")
            }
            let value = try parse(command, what: "the request")
            do {
                return try Request(value)
            } catch {
                throw ClientError(.invalidRequest, "invalid request: \(error.message)")
            }
        }
        guard isCommandName(command) else {
            throw ClientError(.invalidRequest, "'\(command)' is not a command name (such as guest-info) or a JSON request")
        }
        var object = JSONObject()
        if let argsJSON {
            guard let given = try parse(argsJSON, what: "--args").object else {
                throw ClientError(.invalidRequest, "--args must be a JSON object")
            }
            object = given
        }
        for word in arguments {
            let (name, value) = try argument(word)
            guard object[name] == nil else {
                throw ClientError(.invalidRequest, "argument '\(name)' is given twice")
            }
            object.append(key: name, value: value)
        }
        return Request(command, arguments: object.isEmpty ? nil : object)
    }

    /// One `NAME=VALUE` or `NAME:=JSON` word.
    static func argument(_ word: String) throws(ClientError) -> (String, JSONValue) {
        guard let equals = word.firstIndex(of: "=") else {
            throw ClientError(.invalidRequest, "argument '\(word)' is not NAME=VALUE or NAME:=JSON")
        }
        var name = word[..<equals]
        let rest = String(word[word.index(after: equals)...])
        let isJSON = name.last == ":"
        if isJSON { name.removeLast() }
        guard !name.isEmpty else { throw ClientError(.invalidRequest, "argument '\(word)' has no name") }
        let value: JSONValue = isJSON ? try parse(rest, what: "argument '\(name)'") : .string(rest)
        return (String(name), value)
    }

    private static func parse(_ text: String, what: String) throws(ClientError) -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw ClientError(.invalidRequest, "\(what) is not valid JSON: \(error)")
        }
    }

    private static func isCommandName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
    }
}
