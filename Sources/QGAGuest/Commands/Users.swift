import Glibc
import QGAProtocol

extension GuestAgent {
    /// The user family: each handler with its catalogue entry.
    static let userHandlers: [Handler] = [
        Handler(Catalogue.Commands.guestSetUserPassword, guestSetUserPassword),
        Handler(Catalogue.Commands.guestSshGetAuthorizedKeys, guestSshGetAuthorizedKeys),
        Handler(Catalogue.Commands.guestSshAddAuthorizedKeys, guestSshAddAuthorizedKeys),
        Handler(Catalogue.Commands.guestSshRemoveAuthorizedKeys, guestSshRemoveAuthorizedKeys),
    ]
}

private func guestSetUserPassword(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let user = try args.string("username")
    guard let password = Base64.decode(try args.string("password")) else {
        throw AgentError.generic("Base64 data contains invalid characters")
    }
    let crypted = try args.bool("crypted")
    // As qemu-ga: no lookup here (chpasswd refuses an unknown user), checks in this order.
    guard !password.contains(UInt8(ascii: "\n")) else { throw AgentError.generic("forbidden characters in raw password") }
    guard !user.contains(":"), !user.contains("\n") else { throw AgentError.generic("forbidden characters in username") }
    let status = try runProgram(crypted ? ["chpasswd", "-e"] : ["chpasswd"], input: Array("\(user):".utf8) + password + [0x0A])
    guard status == .exited(0) else { throw AgentError.generic("child process has failed to set user password") }
    return [:]
}

private func guestSshGetAuthorizedKeys(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let file = try AuthorizedKeys(user: try args.string("username"))
    guard let lines = try file.lines() else { throw file.readError(.missing) }
    // qemu-ga lists them last line first; clients see the same order from both agents.
    let keys = lines.map { String(decoding: $0.trimmingASCIIWhitespace(), as: UTF8.self) }
        .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    return ["keys": .array(keys.reversed().map { .string($0) })]
}

private func guestSshAddAuthorizedKeys(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let user = try args.string("username")
    let keys = try args.strings("keys")
    let reset = try args.optionalBool("reset") ?? false
    try checkKeys(keys)
    let file = try AuthorizedKeys(user: user)
    var lines = reset ? [] : try file.lines() ?? []
    // Sets keep this linear in keys and lines (up to a 4 MiB file).
    var present = Set(lines)
    for key in keys.map({ Array($0.utf8) }) where present.insert(key).inserted { lines.append(key) }
    try file.write(lines)
    return [:]
}

private func guestSshRemoveAuthorizedKeys(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let user = try args.string("username")
    let keys = try args.strings("keys")
    try checkKeys(keys)
    let file = try AuthorizedKeys(user: user)
    // Nothing to remove from a file that is not there.
    guard let lines = try file.lines() else { return [:] }
    let removed = Set(keys.map { Array($0.utf8) })
    try file.write(lines.filter { !removed.contains($0) })
    return [:]
}

/// qemu-ga's check, no stricter: an empty key passes (virsh set-user-sshkeys sends one
/// after the last newline of its key file); comments and embedded newlines do not.
private func checkKeys(_ keys: [String]) throws(AgentError) {
    for key in keys where key.hasPrefix("#") || key.contains("\n") {
        throw AgentError.generic("invalid OpenSSH public key: '\(key)'")
    }
}

/// A user's ~/.ssh/authorized_keys, kept as qemu-ga keeps it: every line as it is
/// (comments and blank lines included), new keys appended, lines joined by "\n". qgad is
/// root and the directory is the user's, so every access goes through `UserDirectory`.
private struct AuthorizedKeys {
    /// Far more than any authorized_keys; a larger one is refused, not cut short.
    static let sizeLimit = 4 << 20

    let account: UserAccount
    let directoryPath: String
    let path: String

    init(user: String) throws(AgentError) {
        // qemu-ga's wording, strerror(0) included.
        guard let account = UserLookup.account(named: user) else { throw .generic("failed to lookup user '\(user)': Success") }
        self.account = account
        var home = Substring(account.home)
        while home.count > 1 && home.hasSuffix("/") { home = home.dropLast() }
        directoryPath = home.isEmpty ? ".ssh" : home == "/" ? "/.ssh" : home + "/.ssh"
        path = directoryPath + "/authorized_keys"
    }

    /// The file's lines, or nil when it (or ~/.ssh, or the home) does not exist.
    func lines() throws(AgentError) -> [[UInt8]]? {
        do {
            let bytes = try UserDirectory.open(path: account.home).directory(".ssh")
                .readFile("authorized_keys", owner: account.uid, limit: AuthorizedKeys.sizeLimit)
            // As g_strsplit: an empty file has no lines, a final "\n" leaves an empty one.
            return bytes.isEmpty ? [] : bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        } catch .missing {
            return nil
        } catch {
            throw readError(error)
        }
    }

    func readError(_ error: UserFileError) -> AgentError {
        let reason = switch error {
        // glib's wording, which qemu-ga passes on.
        case .missing: "Failed to open file \u{201C}\(path)\u{201D}: \(FileSystem.strerror(ENOENT))"
        case .system(let code): "Failed to open file \u{201C}\(path)\u{201D}: \(FileSystem.strerror(code))"
        case .refused(let reason): reason
        }
        return .generic("failed to read '\(path)': \(reason)")
    }

    /// Replaces the file with `lines`, mode 0600, owned by the user; creates ~/.ssh (0700,
    /// the user's) if it is missing.
    func write(_ lines: [[UInt8]]) throws(AgentError) {
        let ssh: UserDirectory
        do {
            let home = try UserDirectory.open(path: account.home)
            do {
                ssh = try home.directory(".ssh")
            } catch .missing {
                ssh = try home.makeDirectory(".ssh", mode: 0o700, uid: account.uid, gid: account.gid)
            }
        } catch {
            throw .generic("failed to create directory '\(directoryPath)': \(describe(error))")
        }
        var bytes: [UInt8] = []
        for (index, line) in lines.enumerated() {
            if index > 0 { bytes.append(0x0A) }
            bytes += line
        }
        do {
            try ssh.replaceFile("authorized_keys", with: bytes, mode: 0o600, uid: account.uid, gid: account.gid)
        } catch {
            throw .generic("failed to write to '\(path)': \(describe(error))")
        }
    }

    private func describe(_ error: UserFileError) -> String {
        switch error {
        case .missing: FileSystem.strerror(ENOENT)
        case .system(let code): FileSystem.strerror(code)
        case .refused(let reason): reason
        }
    }
}

extension Array where Element == UInt8 {
    /// Without leading and trailing ASCII whitespace (as g_strstrip).
    fileprivate func trimmingASCIIWhitespace() -> ArraySlice<UInt8> {
        let space: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        guard let first = firstIndex(where: { !space($0) }), let last = lastIndex(where: { !space($0) }) else { return [] }
        return self[first...last]
    }
}
