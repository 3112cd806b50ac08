import QGAProtocol

/// `qga exec --describe COMMAND`: a catalogue entry as an admin reads it, or as JSON.
enum Describe {
    /// The lines describing `info`: a header (since, platforms, reply), its arguments, and
    /// every named type its arguments and reply use, each once, depth first.
    static func text(_ info: CommandInfo) -> [String] {
        var lines = [info.name]
        lines.append("  since:    " + (info.since.map { "QEMU \($0)" } ?? "unknown"))
        lines.append("  on:       " + platforms(info.condition))
        lines.append("  replies:  " + replyText(info))
        lines.append("")
        if info.arguments.isEmpty {
            lines.append("No arguments.")
        } else {
            lines.append("Arguments:")
            lines += memberLines(info.arguments, indent: "  ")
        }
        for type in types(of: info) {
            lines.append("")
            lines += typeLines(type)
        }
        return lines
    }

    /// The same as JSON, for scripts.
    static func json(_ info: CommandInfo) -> JSONValue {
        var object: JSONObject = ["name": .string(info.name)]
        object["since"] = info.since.map { .string($0) } ?? .null
        object["linux"] = .bool(info.condition?.holdsOnLinux ?? true)
        object["windows"] = .bool(info.condition?.holdsOnWindows ?? true)
        object["success-response"] = .bool(info.successResponse)
        object["arguments"] = .array(info.arguments.map(memberJSON))
        object["returns"] = info.returns.map { .string($0.description) } ?? .null
        object["types"] = .array(types(of: info).map(typeJSON))
        return .object(object)
    }

    /// `Linux, Windows`, `Linux`, `Windows`, or the raw condition for other builds.
    static func platforms(_ condition: Condition?) -> String {
        let on = [(condition?.holdsOnLinux ?? true, "Linux"), (condition?.holdsOnWindows ?? true, "Windows")]
            .filter(\.0).map(\.1)
        return on.isEmpty ? "neither Linux nor Windows builds" : on.joined(separator: ", ")
    }

    private static func replyText(_ info: CommandInfo) -> String {
        guard info.successResponse else { return "no reply on success (only errors are answered)" }
        guard let returns = info.returns else { return "yes, an empty object" }
        return "yes, with \(returns)"
    }

    /// ` (not on Windows)` for a member or value some builds lack; empty otherwise.
    private static func conditionNote(_ condition: Condition?) -> String {
        guard let condition else { return "" }
        switch (condition.holdsOnLinux, condition.holdsOnWindows) {
        case (true, true): return ""
        case (true, false): return " (not on Windows)"
        case (false, true): return " (Windows only)"
        case (false, false): return " (neither Linux nor Windows)"
        }
    }

    private static func memberLines(_ members: [Member], indent: String) -> [String] {
        let width = members.map(\.name.count).max() ?? 0
        let typeWidth = members.map(\.type.description.count).max() ?? 0
        return members.map { member in
            let name = member.name + String(repeating: " ", count: width - member.name.count)
            let type = member.type.description
            let notes = (member.optional ? "optional" : "") + conditionNote(member.condition)
            let line = "\(indent)\(name)  \(type)" + (notes.isEmpty ? "" : String(repeating: " ", count: typeWidth - type.count) + "  " + notes)
            return line
        }
    }

    private static func typeLines(_ type: SchemaType) -> [String] {
        switch type.kind {
        case .enumeration(let values):
            return ["\(type.name): one of " + values.map { $0.name + conditionNote($0.condition) }.joined(separator: ", ")]
        case .alternate(let branches):
            return ["\(type.name): " + branches.map { $0.type.description }.joined(separator: " or ")]
        case .structure:
            let members = SchemaCheck.members(of: type)
            return ["\(type.name):"] + memberLines(members, indent: "  ")
        case .union(_, _, let discriminator, let branches):
            let members = SchemaCheck.members(of: type)
            return ["\(type.name):"] + memberLines(members, indent: "  ")
                + branches.map { "  and when \(discriminator) is \($0.name): the members of \($0.type)" }
        }
    }

    private static func memberJSON(_ member: Member) -> JSONValue {
        ["name": .string(member.name), "type": .string(member.type.description), "optional": .bool(member.optional)]
    }

    private static func typeJSON(_ type: SchemaType) -> JSONValue {
        var object: JSONObject = ["name": .string(type.name)]
        switch type.kind {
        case .enumeration(let values):
            object["kind"] = "enum"
            object["values"] = .array(values.map { .string($0.name) })
        case .alternate(let branches):
            object["kind"] = "alternate"
            object["branches"] = .array(branches.map { .string($0.type.description) })
        case .structure:
            object["kind"] = "struct"
            object["members"] = .array(SchemaCheck.members(of: type).map(memberJSON))
        case .union(_, _, let discriminator, let branches):
            object["kind"] = "union"
            object["members"] = .array(SchemaCheck.members(of: type).map(memberJSON))
            object["discriminator"] = .string(discriminator)
            object["branches"] = .object(JSONObject(branches.map { JSONObject.Member(key: $0.name, value: .string($0.type.description)) }))
        }
        return .object(object)
    }

    /// The named types `info` uses, each once, depth first (arguments first): a type's
    /// parts follow it.
    static func types(of info: CommandInfo) -> [SchemaType] {
        var found: [SchemaType] = []
        func visit(_ name: String) {
            guard !found.contains(where: { $0.name == name }), let type = Catalogue.type(name) else { return }
            found.append(type)
            switch type.kind {
            case .enumeration: break
            case .alternate(let branches): branches.forEach { visit($0.type.name) }
            case .structure, .union:
                SchemaCheck.members(of: type).forEach { visit($0.type.name) }
                if case .union(_, _, _, let branches) = type.kind { branches.forEach { visit($0.type.name) } }
            }
        }
        info.arguments.forEach { visit($0.type.name) }
        if let returns = info.returns { visit(returns.name) }
        return found
    }
}
