import ArgumentParser
import QGAProtocol

/// Shell completion from the catalogue: the shells call back into `qga` (ArgumentParser's
/// custom completions), so the committed scripts stay the same when the catalogue grows.
enum Completion {
    /// Command names, for `exec COMMAND`, `exec --describe` and the like.
    static let commandNames = CompletionKind.custom { _, _, prefix in
        Catalogue.commands.map(\.name).filter { $0.hasPrefix(prefix) }
    }

    /// `NAME=` for the arguments of the command already on the line (those not given yet),
    /// and after `NAME=` the values of an enum or boolean argument.
    static let arguments = CompletionKind.custom { words, index, prefix in
        argumentCompletions(words: Array(words.prefix(max(0, min(index, words.count)))), prefix: prefix)
    }

    /// What `arguments` offers after `words` (the words before the one being completed).
    static func argumentCompletions(words: [String], prefix: String) -> [String] {
        guard let info = words.lazy.compactMap({ Catalogue.info($0) }).first else { return [] }
        if let equals = prefix.firstIndex(of: "="), !prefix[..<equals].hasSuffix(":") {
            let name = String(prefix[..<equals])
            guard let member = info.argument(name) else { return [] }
            return values(of: member.type).map { "\(name)=\($0)" }.filter { $0.hasPrefix(prefix) }
        }
        let given = words.compactMap { word in word.firstIndex(of: "=").map { String(word[..<$0]).replacingColon() } }
        return info.arguments.filter { $0.type.isArray || !given.contains($0.name) }
            .map { $0.name + "=" }.filter { $0.hasPrefix(prefix) }
    }

    /// The values a `NAME=VALUE` of `type` can take, when there are few: enum values, booleans.
    private static func values(of type: TypeRef) -> [String] {
        if type.builtin == .bool { return ["true", "false"] }
        guard case .schema(let schema) = SchemaCheck.resolve(type.name) else { return [] }
        switch schema.kind {
        case .enumeration(let values): return values.map(\.name)
        case .alternate(let branches): return branches.flatMap { values(of: $0.type) }
        case .structure, .union: return []
        }
    }
}

extension String {
    /// `name` for `name:` (the name part of `NAME:=JSON`).
    fileprivate func replacingColon() -> String { hasSuffix(":") ? String(dropLast()) : self }
}
