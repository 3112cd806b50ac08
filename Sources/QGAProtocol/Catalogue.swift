/// What both sides know about each command of the QGA schema (`qga/qapi-schema.json` in
/// QEMU). The entries themselves are generated into `Catalogue+Generated.swift` by
/// `scripts/generate-catalogue`; this file holds the types and the few facts the schema
/// does not carry (the frozen allowlist, how long a command may take).
///
/// Everything here is a `static let` of plain structs, built on first use: a linear search
/// over some fifty commands is cheaper than building a dictionary at start-up.
public enum Catalogue {
    /// The entry for `name`, or nil for a command this schema does not know (it is still
    /// sent: newer agents have commands we have not heard of).
    public static func info(_ name: String) -> CommandInfo? {
        commands.first { $0.name == name }
    }

    /// The definition of a type the commands reference, or nil for a builtin (see
    /// `Builtin`) or an unknown name.
    public static func type(_ name: String) -> SchemaType? {
        types.first { $0.name == name }
    }

    /// The members of struct `name`, its bases' first (none for nil or a name that is not a
    /// struct): what both sides' argument checks walk for a struct or a union's base.
    public static func structMembers(_ name: String?) -> [Member] {
        guard let name, case .structure(let base, let members)? = type(name)?.kind else { return [] }
        return structMembers(base) + members
    }

    /// Commands qemu-ga still runs while filesystems are frozen. The schema does not mark
    /// them (no `fs-frozen` feature in any QEMU release so far); qemu-ga keeps the list in
    /// `ga_freeze_allowlist` in `qga/main.c`, unchanged since QEMU 1.x.
    public static let frozenAllowlist: [String] = [
        "guest-ping", "guest-info", "guest-sync", "guest-sync-delimited",
        "guest-fsfreeze-status", "guest-fsfreeze-thaw",
    ]

    /// One generated accessor per command (`Catalogue.Commands.guestPing`), so that code
    /// refers to an entry by a name the compiler checks rather than by a string.
    public enum Commands {}

    /// Commands that work on disks and may take minutes: they get the long default timeout.
    static let longCommands: [String] = [
        "guest-fsfreeze-freeze", "guest-fsfreeze-freeze-list", "guest-fsfreeze-thaw", "guest-fstrim",
    ]
}

/// One command of the schema.
public struct CommandInfo: Sendable, Equatable {
    /// How long a command may reasonably take, which sets the client's default timeout.
    public enum Duration: Sendable, Equatable {
        /// Answers at once.
        case quick
        /// Works on disks or processes: fsfreeze, fstrim.
        case long
    }

    public let name: String
    /// The QEMU version that introduced it (the doc comment's `Since:`), if stated.
    public let since: String?
    /// The members of `data`, in schema order.
    public let arguments: [Member]
    /// The type of a successful reply's `return`, or nil when it returns an empty object.
    public let returns: TypeRef?
    /// False for commands that send no reply on success (schema `success-response: false`).
    public let successResponse: Bool
    /// Schema `allow-oob`.
    public let allowOOB: Bool
    /// Schema `features` (names only).
    public let features: [String]
    /// The build condition (`if`): nil when every qemu-ga build has the command.
    public let condition: Condition?

    public init(
        name: String, since: String? = nil, arguments: [Member] = [], returns: TypeRef? = nil,
        successResponse: Bool = true, allowOOB: Bool = false, features: [String] = [], condition: Condition? = nil
    ) {
        self.name = name
        self.since = since
        self.arguments = arguments
        self.returns = returns
        self.successResponse = successResponse
        self.allowOOB = allowOOB
        self.features = features
        self.condition = condition
    }

    /// Derived from the name: fsfreeze and fstrim are `.long`, everything else `.quick`.
    public var duration: Duration {
        Catalogue.longCommands.contains(name) ? .long : .quick
    }

    /// Whether qemu-ga runs it while filesystems are frozen: marked `fs-frozen` in the
    /// schema, or on qemu-ga's own allowlist (`Catalogue.frozenAllowlist`).
    public var allowedWhileFrozen: Bool {
        features.contains("fs-frozen") || Catalogue.frozenAllowlist.contains(name)
    }

    /// The argument called `name`, if the command has one.
    public func argument(_ name: String) -> Member? {
        arguments.first { $0.name == name }
    }
}

/// A type named in the schema: a builtin or schema type, or an array of one (QAPI arrays
/// are one level deep, written `['T']`).
public struct TypeRef: Sendable, Equatable, CustomStringConvertible {
    /// The element type's name.
    public let name: String
    public let isArray: Bool

    public static func named(_ name: String) -> TypeRef { TypeRef(name: name, isArray: false) }
    public static func array(_ name: String) -> TypeRef { TypeRef(name: name, isArray: true) }

    /// The element type when it is a builtin.
    public var builtin: Builtin? { Builtin(rawValue: name) }

    /// `int`, or `[str]` for an array.
    public var description: String { isArray ? "[\(name)]" : name }
}

/// QAPI's builtin types.
public enum Builtin: String, Sendable, CaseIterable {
    case str, number, bool, null, any, size
    case int, int8, int16, int32, int64
    case uint8, uint16, uint32, uint64

    /// Integer types, which travel as JSON integers within their range.
    public var isInteger: Bool {
        switch self {
        case .int, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .size: true
        case .str, .number, .bool, .null, .any: false
        }
    }
}

/// A member of a struct, a union's base or a command's arguments.
public struct Member: Sendable, Equatable {
    public let name: String
    public let type: TypeRef
    /// Written `*name` in the schema: the member may be left out.
    public let optional: Bool
    public let condition: Condition?

    public init(_ name: String, _ type: TypeRef, optional: Bool = false, condition: Condition? = nil) {
        self.name = name
        self.type = type
        self.optional = optional
        self.condition = condition
    }
}

/// A QAPI `if`: a configuration symbol of qemu-ga's build, or a combination of them.
public indirect enum Condition: Sendable, Equatable {
    case config(String)
    case all([Condition])
    case any([Condition])
    case not(Condition)

    /// Evaluates the condition for a build that defines `symbols`.
    public func holds(for symbols: [String]) -> Bool {
        switch self {
        case .config(let name): symbols.contains(name)
        case .all(let conditions): conditions.allSatisfy { $0.holds(for: symbols) }
        case .any(let conditions): conditions.contains { $0.holds(for: symbols) }
        case .not(let condition): !condition.holds(for: symbols)
        }
    }

    /// Whether a Linux build of qemu-ga (with the usual libraries) has it.
    public var holdsOnLinux: Bool { holds(for: Condition.linuxSymbols) }
    /// Whether a Windows build of qemu-ga has it.
    public var holdsOnWindows: Bool { holds(for: Condition.windowsSymbols) }

    /// What QEMU's configure defines for a Linux build of qemu-ga with libudev.
    public static let linuxSymbols = [
        "CONFIG_POSIX", "CONFIG_LINUX", "CONFIG_FSFREEZE", "CONFIG_FSTRIM", "CONFIG_LIBUDEV",
        "HAVE_GETIFADDRS", "HAVE_UTMPX", "CONFIG_GETLOADAVG",
    ]
    /// What QEMU's configure defines for a Windows build of qemu-ga.
    public static let windowsSymbols = ["CONFIG_WIN32"]
}

/// A named type of the schema.
public struct SchemaType: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `enum`: the values, in order.
        case enumeration([EnumValue])
        /// `struct`: a base struct's name, if any, and the own members.
        case structure(base: String?, members: [Member])
        /// `union`: the base (a struct's name or inline members), the discriminator member
        /// and one branch per discriminator value (other values add no members).
        case union(baseType: String?, baseMembers: [Member], discriminator: String, branches: [Variant])
        /// `alternate`: a value of one of the branch types, told apart by its JSON kind.
        case alternate([Variant])
    }

    public let name: String
    public let since: String?
    public let condition: Condition?
    public let kind: Kind

    public init(name: String, since: String? = nil, condition: Condition? = nil, kind: Kind) {
        self.name = name
        self.since = since
        self.condition = condition
        self.kind = kind
    }
}

/// A value of an enum.
public struct EnumValue: Sendable, Equatable {
    public let name: String
    public let condition: Condition?

    public init(_ name: String, condition: Condition? = nil) {
        self.name = name
        self.condition = condition
    }
}

/// A branch of a union (named by its discriminator value) or an alternate.
public struct Variant: Sendable, Equatable {
    public let name: String
    public let type: TypeRef
    public let condition: Condition?

    public init(_ name: String, _ type: TypeRef, condition: Condition? = nil) {
        self.name = name
        self.type = type
        self.condition = condition
    }
}
