import Foundation
import QGAProtocol

/// The shape of a JSON value: member names and JSON types, recursively, without the values.
/// Arrays have one shape for all their elements (the union of each element's shape); an
/// object member missing from some elements of an array is marked optional.
public indirect enum JSONShape: Equatable, Sendable, CustomStringConvertible {
    case null, bool, number, string
    /// An array; nil for an empty one.
    case array(JSONShape?)
    /// Members by name (sorted), each with its shape and whether some element lacked it.
    case object([Member])
    /// Elements of several kinds in one array, sorted by description.
    case oneOf([JSONShape])

    public struct Member: Equatable, Sendable {
        public var name: String
        public var shape: JSONShape
        public var optional: Bool
    }

    public init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool: self = .bool
        case .number: self = .number
        case .string: self = .string
        case .array(let elements):
            var element: JSONShape?
            for shape in elements.map(JSONShape.init) { element = element.map { $0.union(shape) } ?? shape }
            self = .array(element)
        case .object(let object):
            // A duplicated member counts once (both agents refuse them).
            var seen: [String: JSONShape] = [:]
            for member in object { seen[member.key] = JSONShape(member.value) }
            self = .object(seen.keys.sorted().map { Member(name: $0, shape: seen[$0] ?? .null, optional: false) })
        }
    }

    /// One shape covering both.
    public func union(_ other: JSONShape) -> JSONShape {
        switch (self, other) {
        case (.array(let a), .array(let b)):
            guard let a else { return .array(b) }
            guard let b else { return .array(a) }
            return .array(a.union(b))
        case (.object(let a), .object(let b)):
            let names = Set(a.map(\.name)).union(b.map(\.name)).sorted()
            return .object(names.map { name in
                let x = a.first { $0.name == name }
                let y = b.first { $0.name == name }
                switch (x, y) {
                case (let x?, let y?): return Member(name: name, shape: x.shape.union(y.shape), optional: x.optional || y.optional)
                case (let x?, nil): return Member(name: name, shape: x.shape, optional: true)
                case (nil, let y?): return Member(name: name, shape: y.shape, optional: true)
                case (nil, nil): return Member(name: name, shape: .null, optional: true)
                }
            })
        case (.oneOf(let a), _): return JSONShape.merge(a, other)
        case (_, .oneOf(let b)): return JSONShape.merge(b, self)
        default:
            return self == other ? self : JSONShape.merge([self], other)
        }
    }

    private static func merge(_ list: [JSONShape], _ shape: JSONShape) -> JSONShape {
        var kinds = list
        let incoming: [JSONShape] = if case .oneOf(let more) = shape { more } else { [shape] }
        for item in incoming {
            if let i = kinds.firstIndex(where: { $0.sameKind(item) }) { kinds[i] = kinds[i].union(item) } else { kinds.append(item) }
        }
        kinds.sort { $0.description < $1.description }
        return kinds.count == 1 ? kinds[0] : .oneOf(kinds)
    }

    private func sameKind(_ other: JSONShape) -> Bool {
        switch (self, other) {
        case (.null, .null), (.bool, .bool), (.number, .number), (.string, .string), (.array, .array), (.object, .object): true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array(let element): "[" + (element?.description ?? "") + "]"
        case .object(let members):
            "{" + members.map { "\($0.name)\($0.optional ? "?" : ""):\($0.shape)" }.joined(separator: ",") + "}"
        case .oneOf(let kinds): kinds.map(\.description).joined(separator: "|")
        }
    }

    /// The paths where two shapes differ, each with both sides, for a readable report.
    public func differences(from other: JSONShape, names: (String, String), at path: String = "") -> [String] {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            var out: [String] = []
            for name in Set(a.map(\.name)).union(b.map(\.name)).sorted() {
                let x = a.first { $0.name == name }
                let y = b.first { $0.name == name }
                let here = path + "." + name
                switch (x, y) {
                case (let x?, let y?):
                    if x.optional != y.optional {
                        out.append("\(here) \(x.optional ? "optional" : "always present") in \(names.0), \(y.optional ? "optional" : "always present") in \(names.1)")
                    }
                    out += x.shape.differences(from: y.shape, names: names, at: here)
                case (_?, nil): out.append("\(here) only in \(names.0)")
                case (nil, _?): out.append("\(here) only in \(names.1)")
                case (nil, nil): break
                }
            }
            return out
        case (.array(let a?), .array(let b?)):
            return a.differences(from: b, names: names, at: path + "[]")
        default:
            return self == other ? [] : ["\(path.isEmpty ? "." : path): \(self) in \(names.0), \(other) in \(names.1)"]
        }
    }
}

extension JSONValue {
    /// The same value with every object's members sorted by name, for comparing values
    /// whose member order does not matter.
    public var sortingMembers: JSONValue {
        switch self {
        case .array(let elements): .array(elements.map(\.sortingMembers))
        case .object(let object):
            .object(JSONObject(object.members.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value.sortingMembers) }))
        default: self
        }
    }
}

/// One reply as a differential test records it.
public struct RecordedReply: Sendable {
    /// Whether a 0xFF came right before it.
    public var delimited: Bool
    /// The reply, or nil when it was not valid JSON.
    public var value: JSONValue?
}

/// What one step of a differential case saw: every reply to the step's bytes, up to the
/// marker that follows them.
public struct StepRecord: Sendable {
    public var label: String
    public var request: String
    public var replies: [RecordedReply]
    /// False when the marker's reply never came (the step left the parser mid-message, or
    /// the agent stopped answering).
    public var markerSeen: Bool
    /// Values the case extracted from the replies for comparison, by name.
    public var values: [String: String]
}

/// Drives one agent through a differential case: sends each step's bytes, then a
/// `guest-sync` marker, and records every reply that arrives before the marker's.
public final class DifferentialSession: @unchecked Sendable {
    public let kind: AgentKind
    /// The agent's private temporary directory; `$DIR` in requests stands for it.
    public let directory: String
    public private(set) var steps: [StepRecord] = []
    /// Substitutions applied to requests (`$NAME` → value) and reversed in error texts.
    public var variables: [String: String] = [:]
    private let client: RawClient
    private var nextMarker = 7_770_000

    public init(_ agent: AgentProcess) throws {
        kind = agent.kind
        directory = agent.directory.path
        client = try agent.connect()
        variables["$DIR"] = directory
    }

    /// Replaces `$NAME`s by their values.
    public func expand(_ text: String) -> String {
        var out = text
        // Longest names first, so `$DIR2` is not read as `$DIR` followed by 2.
        for (name, value) in variables.sorted(by: { $0.key.count > $1.key.count }) {
            out = out.replacingOccurrences(of: name, with: value)
        }
        return out
    }

    /// Replaces values of variables by their names, so texts from two agents compare.
    public func generalise(_ text: String) -> String {
        var out = text
        for (name, value) in variables.sorted(by: { $0.value.count > $1.value.count }) where value.count >= 3 {
            out = out.replacingOccurrences(of: value, with: name)
        }
        return out
    }

    /// Sends `bytes`, records the replies up to the marker, and returns them.
    @discardableResult
    public func step(
        _ label: String, bytes: [UInt8], shown: String, markerTimeout: Double = 5,
        values: (([RecordedReply]) -> [String: String])? = nil
    ) -> [RecordedReply] {
        nextMarker += 1
        let marker = nextMarker
        client.send(bytes + Array(#"{"execute":"guest-sync","arguments":{"id":\#(marker)}}"#.utf8))
        var replies: [RecordedReply] = []
        var seen = false
        let end = Date().addingTimeInterval(markerTimeout)
        while let reply = client.reply(timeout: max(0.01, end.timeIntervalSinceNow)) {
            if reply.value?["return"] == .number(JSONNumber(marker)), reply.value?["id"] == nil {
                seen = true
                break
            }
            replies.append(RecordedReply(delimited: reply.delimited, value: reply.value))
        }
        steps.append(StepRecord(label: label, request: DifferentialSession.escaped(shown), replies: replies, markerSeen: seen, values: values?(replies) ?? [:]))
        return replies
    }

    /// `text` with control characters and U+FFFD written as escapes, for reports.
    public static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0xFFFD: out += "\\xFF"
            case 0..<0x20, 0x7F: out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Sends one request (after `$NAME` substitution) as a step.
    @discardableResult
    public func call(
        _ label: String, _ request: String, markerTimeout: Double = 5,
        values: (([RecordedReply]) -> [String: String])? = nil
    ) -> JSONValue? {
        step(label, bytes: Array(expand(request).utf8), shown: request, markerTimeout: markerTimeout, values: values).first?.value
    }

    /// Sends a request without recording it (set-up that both agents must do alike),
    /// and returns the first reply.
    public func quietly(_ request: String) -> JSONValue? {
        client.call(expand(request))
    }

    /// Polls `guest-exec-status` for `$PID` until the process has exited (10 s deadline),
    /// and records only the final reply (the one that collects the process) as a step.
    public func execStatus(_ label: String, values: (([RecordedReply]) -> [String: String])? = nil) {
        let end = Date().addingTimeInterval(10)
        let request = #"{"execute":"guest-exec-status","arguments":{"pid":$PID}}"#
        var last: (delimited: Bool, value: JSONValue?)?
        repeat {
            client.send(expand(request))
            last = client.reply()
            if last?.value?["return"]?["exited"] != false { break }
            usleep(20_000)
        } while Date() < end
        let replies = last.map { [RecordedReply(delimited: $0.delimited, value: $0.value)] } ?? []
        steps.append(StepRecord(label: label, request: request, replies: replies, markerSeen: last != nil, values: values?(replies) ?? [:]))
    }
}
