import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga ssh-keys list|add|remove USER TARGET... [-k KEY]... [-f FILE]`: a guest user's authorized_keys.
struct SSHKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh-keys",
        abstract: "List, add or remove a guest user's authorized SSH keys.",
        discussion: """
            The agent edits ~USER/.ssh/authorized_keys in the guest. USER comes before the \
            targets, which may be several (or --all). Keys are given with -k KEY \
            (repeatable) or, with -f FILE (- for stdin), one per line; blank lines and lines \
            starting with # are skipped, as in authorized_keys itself.
            """,
        subcommands: [SSHKeysList.self, SSHKeysAdd.self, SSHKeysRemove.self])
}

/// The keys of `add` and `remove`: arguments, and the lines of a file or stdin.
struct KeyInput: ParsableArguments {
    @Option(
        name: [.customShort("k"), .customLong("key")],
        help: ArgumentHelp("A public key, a whole authorized_keys line ('ssh-ed25519 AAAA... comment'); repeatable.", valueName: "key"))
    var keys: [String] = []

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("Read keys from FILE, one per line (- for stdin).", valueName: "file"))
    var file: String?

    /// The most a key file may hold: far more than any authorized_keys.
    static let maxFileSize = 1 << 20

    /// Throws unless a key or a file is given; `orElse` ends the message (nil: none needed).
    func validate(orElse alternative: String?) throws {
        guard let alternative, keys.isEmpty, file == nil else { return }
        throw ValidationError("give at least one -k KEY or -f FILE\(alternative)")
    }

    /// The request's `username` and `keys`; unless `noneAllowed`, a usage error when the
    /// file held no key either.
    func arguments(user: String, noneAllowed: Bool) throws -> JSONObject {
        let keys = try all()
        guard noneAllowed || !keys.isEmpty else {
            throw CommandFailure(code: ExitCodes.usage, message: "no keys were given; nothing was changed")
        }
        return ["username": .string(user), "keys": .array(keys.map { .string($0) })]
    }

    /// Every key: the arguments, then the file's.
    func all() throws -> [String] {
        guard let file else { return keys }
        let source = try HostSource(path: file == "-" ? nil : file)
        let bytes = try source.read(Self.maxFileSize + 1)
        guard bytes.count <= Self.maxFileSize else {
            throw CommandFailure(code: ExitCodes.usage, message: "\(file == "-" ? "stdin" : file) holds more than 1 MiB; that is not a key file")
        }
        return keys + Self.lines(String(decoding: bytes, as: UTF8.self))
    }

    /// The keys in a file's text: each line trimmed, blank lines and comments skipped.
    static func lines(_ text: String) -> [String] {
        // Character.isNewline: "\r\n" is one Character, which a split on "\n" would not cut.
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let key = line.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            let trimmed = String(key.reversed().trimmingPrefix(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
            return trimmed.isEmpty || trimmed.hasPrefix("#") ? nil : trimmed
        }
    }
}

/// `qga ssh-keys list USER TARGET...`
struct SSHKeysList: Query {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print a guest user's authorized keys, one per line.")
    static let agentCommand = Catalogue.Commands.guestSshGetAuthorizedKeys

    // Before the targets: they take every positional word after it.
    @Argument(help: "The guest user.") var user: String
    @OptionGroup var options: QueryOptions

    func agentArguments() throws -> JSONObject? { ["username": .string(user)] }

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        guard let keys = value["keys"]?.array else { throw Self.unexpected(value, label: label) }
        var lines: [String] = []
        for key in keys {
            guard let text = key.string else { throw Self.unexpected(value, label: label) }
            // Console.line escapes each: a key with a line break stays one line.
            lines.append(text)
        }
        return HumanView(lines: lines)
    }
}

/// `qga ssh-keys add USER TARGET... [-k KEY]... [-f FILE] [--reset]`
struct SSHKeysAdd: Query {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add keys to a guest user's authorized keys.",
        discussion: "Keys already there are kept once. With --reset the file holds exactly the keys given (none: an empty file). Prints nothing on success.")
    static let agentCommand = Catalogue.Commands.guestSshAddAuthorizedKeys

    // Before the targets: they take every positional word after it.
    @Argument(help: "The guest user.") var user: String
    @OptionGroup var options: QueryOptions
    @OptionGroup var input: KeyInput
    @Flag(help: "Replace every key the user has with the keys given.") var reset = false

    func validate() throws {
        try input.validate(orElse: reset ? nil : " (or --reset to remove every key)")
    }

    func agentArguments() throws -> JSONObject? {
        var arguments = try input.arguments(user: user, noneAllowed: reset)
        if reset { arguments.append(key: "reset", value: .bool(true)) }
        return arguments
    }

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView { [] }
}

/// `qga ssh-keys remove USER TARGET... [-k KEY]... [-f FILE]`
struct SSHKeysRemove: Query {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove keys from a guest user's authorized keys.",
        discussion: "Keys not there are ignored. Prints nothing on success.")
    static let agentCommand = Catalogue.Commands.guestSshRemoveAuthorizedKeys

    // Before the targets: they take every positional word after it.
    @Argument(help: "The guest user.") var user: String
    @OptionGroup var options: QueryOptions
    @OptionGroup var input: KeyInput

    func validate() throws {
        try input.validate(orElse: "")
    }

    func agentArguments() throws -> JSONObject? {
        try input.arguments(user: user, noneAllowed: false)
    }

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView { [] }
}
