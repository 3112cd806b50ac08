import QGAClient
import QGAProtocol

/// Turns `exec`'s words into a request: a command name with `NAME=VALUE` and `NAME:=JSON`
/// arguments (HTTPie's convention) and an optional `--args` object, or one whole JSON
/// request as virsh takes it.
///
/// With `check` (the default), a command the catalogue knows gets its arguments converted
/// and checked there: `NAME=VALUE` becomes the argument's type (`handle=1000` a number,
/// `capture-output=true` a boolean; an array argument takes one element per `NAME=VALUE`),
/// `NAME:=JSON` and `--args` are checked against it, and an unknown, missing or mistyped
/// argument is a usage error that lists what the command takes. Without `check`, or for a
/// command the catalogue does not know, `NAME=VALUE` is a string and JSON goes as written.
enum RequestBuilder {
    static func build(command: String, arguments: [String], argsJSON: String?, check: Bool = true) throws(ClientError) -> Request {
        if command.first == "{" {
            guard arguments.isEmpty, argsJSON == nil else {
                throw ClientError(.invalidRequest, "a whole JSON request takes no further arguments")
            }
            let value = try parse(command, what: "the request")
            let request: Request
            do {
                request = try Request(value)
            } catch {
                throw ClientError(.invalidRequest, "invalid request: \(error.message)")
            }
            if check, let info = Catalogue.info(request.execute) {
                try verify(request.arguments ?? JSONObject(), of: info)
            }
            return request
        }
        guard isCommandName(command) else {
            throw ClientError(.invalidRequest, "'\(command)' is not a command name (such as guest-info) or a JSON request")
        }
        let info = check ? Catalogue.info(command) : nil
        var object = JSONObject()
        if let argsJSON {
            guard let given = try parse(argsJSON, what: "--args").object else {
                throw ClientError(.invalidRequest, "--args must be a JSON object")
            }
            object = given
        }
        // Names given as NAME=VALUE to an array argument: each adds one element.
        var appendable: [String] = []
        for word in arguments {
            let (name, text, json) = try split(word)
            guard let info else {
                guard object[name] == nil else { throw ClientError(.invalidRequest, "argument '\(name)' is given twice") }
                object.append(key: name, value: json == nil ? .string(text) : try parse(text, what: "argument '\(name)'"))
                continue
            }
            guard let member = info.argument(name) else {
                throw usage(info, "\(info.name) has no argument '\(name)'\(suggestion(for: name, in: info))")
            }
            let value: JSONValue
            if json != nil {
                value = try parse(text, what: "argument '\(name)'")
            } else if let converted = SchemaCheck.convert(text, to: member.type.name) {
                value = converted
            } else {
                throw usage(info, "\(name)=\(text): \(name) must be \(expected(member.type))")
            }
            if member.type.isArray && json == nil {
                if appendable.contains(name), case .array(let elements)? = object[name] {
                    object[name] = .array(elements + [value])
                    continue
                }
                guard object[name] == nil else { throw ClientError(.invalidRequest, "argument '\(name)' is given twice") }
                appendable.append(name)
                object.append(key: name, value: .array([value]))
                continue
            }
            guard object[name] == nil else { throw ClientError(.invalidRequest, "argument '\(name)' is given twice") }
            object.append(key: name, value: value)
        }
        if let info { try verify(object, of: info) }
        return Request(command, arguments: object.isEmpty ? nil : object)
    }

    /// Checks a whole arguments object against a command's schema.
    static func verify(_ object: JSONObject, of info: CommandInfo) throws(ClientError) {
        if let unknown = object.first(where: { info.argument($0.key) == nil }) {
            throw usage(info, "\(info.name) has no argument '\(unknown.key)'\(suggestion(for: unknown.key, in: info))")
        }
        do {
            try SchemaCheck.check(object, against: info.arguments, at: "", typeName: info.name)
        } catch {
            throw usage(info, "\(info.name): \(error.message)")
        }
    }

    /// A usage error for `info` with the list of what it takes after the first line.
    static func usage(_ info: CommandInfo, _ message: String) -> ClientError {
        ClientError(.invalidRequest, ([message] + argumentList(info)).joined(separator: "\n"))
    }

    /// `Arguments of guest-file-open:` and one line per argument (type, optional), or a
    /// line saying it takes none.
    static func argumentList(_ info: CommandInfo) -> [String] {
        guard !info.arguments.isEmpty else { return ["\(info.name) takes no arguments."] }
        let width = info.arguments.map(\.name.count).max() ?? 0
        return ["Arguments of \(info.name):"] + info.arguments.map { member in
            let pad = String(repeating: " ", count: width - member.name.count)
            return "  \(member.name)\(pad)  \(SchemaCheck.typeText(member.type))\(member.optional ? ", optional" : "")"
        }
    }

    /// What a `NAME=VALUE` for `type` must be, for a message.
    private static func expected(_ type: TypeRef) -> String {
        let element = TypeRef.named(type.name)
        if case .schema(let schema) = SchemaCheck.resolve(type.name) {
            switch schema.kind {
            case .structure, .union: return "an object (\(type.name)): write \(type.isArray ? "NAME:='[{...}]'" : "NAME:='{...}'")"
            case .enumeration(let values): return "one of \(values.map(\.name).joined(separator: ", "))"
            case .alternate: return SchemaCheck.typeText(element)
            }
        }
        if let builtin = element.builtin {
            return builtin.isInteger ? SchemaCheck.rangeText(builtin) : SchemaCheck.article(builtin) + (builtin == .bool ? " (true or false)" : "")
        }
        return type.description
    }

    /// ` (did you mean 'path'?)` when an argument's name is a short edit away.
    private static func suggestion(for name: String, in info: CommandInfo) -> String {
        let close = info.arguments.map(\.name).filter { editDistance($0, name) <= 2 || $0.hasPrefix(name) }
        return close.count == 1 ? " (did you mean '\(close[0])'?)" : ""
    }

    /// Levenshtein distance over UTF-8 bytes; names are short.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        guard a.count < 64, b.count < 64 else { return Int.max }
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// One `NAME=VALUE` or `NAME:=JSON` word: the name, the text after the `=`, and the
    /// same text again when it is JSON.
    static func split(_ word: String) throws(ClientError) -> (name: String, text: String, json: String?) {
        guard let equals = word.firstIndex(of: "=") else {
            throw ClientError(.invalidRequest, "argument '\(word)' is not NAME=VALUE or NAME:=JSON")
        }
        var name = word[..<equals]
        let rest = String(word[word.index(after: equals)...])
        let isJSON = name.last == ":"
        if isJSON { name.removeLast() }
        guard !name.isEmpty else { throw ClientError(.invalidRequest, "argument '\(word)' has no name") }
        return (String(name), rest, isJSON ? rest : nil)
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
