import Glibc
import QGAProtocol

extension GuestAgent {
    func registerUsers() {
        add("guest-set-user-password") { _, a in
            let args = try Arguments(a, allowed: ["username", "password", "crypted"])
            let user = try args.string("username")
            guard let password = Base64.decode(try args.string("password")) else {
                throw AgentError.generic("Base64 data contains invalid characters")
            }
            let crypted = try args.bool("crypted")
            guard !user.contains(":"), !user.contains("\n"), !password.contains(UInt8(ascii: "\n")) else {
                throw AgentError.generic("invalid user name or password")
            }
            guard getpwnam(user) != nil else { throw AgentError.generic("failed to lookup user '\(user)'") }
            let status = try runProgram(crypted ? ["chpasswd", "-e"] : ["chpasswd"], input: Array("\(user):".utf8) + password + [0x0A])
            guard status == .exited(0) else { throw AgentError.generic("child process has failed to set user password") }
            return [:]
        }
        add("guest-ssh-get-authorized-keys") { _, a in
            let args = try Arguments(a, allowed: ["username"])
            let account = try Account(try args.string("username"))
            return ["keys": .array(account.keys().map { .string($0) })]
        }
        add("guest-ssh-add-authorized-keys") { _, a in
            let args = try Arguments(a, allowed: ["username", "keys", "reset"])
            let account = try Account(try args.string("username"))
            let keys = try args.strings("keys")
            try checkKeys(keys)
            var current = (try args.optionalBool("reset") ?? false) ? [] : account.keys()
            for key in keys where !current.contains(key) { current.append(key) }
            try account.write(current)
            return [:]
        }
        add("guest-ssh-remove-authorized-keys") { _, a in
            let args = try Arguments(a, allowed: ["username", "keys"])
            let account = try Account(try args.string("username"))
            let keys = try args.strings("keys")
            try checkKeys(keys)
            let current = account.keys()
            let kept = current.filter { !keys.contains($0) }
            if kept.count != current.count { try account.write(kept) }
            return [:]
        }
    }
}

private func checkKeys(_ keys: [String]) throws {
    for key in keys where key.contains("\n") || key.isEmpty {
        throw AgentError.generic("invalid authorized key '\(key)'")
    }
}

/// A user's ~/.ssh/authorized_keys.
private struct Account {
    let uid: uid_t
    let gid: gid_t
    let home: String

    init(_ name: String) throws {
        guard let entry = getpwnam(name) else { throw AgentError.generic("failed to lookup user '\(name)'") }
        uid = entry.pointee.pw_uid
        gid = entry.pointee.pw_gid
        home = String(cString: entry.pointee.pw_dir)
    }

    var directory: String { home + "/.ssh" }
    var file: String { directory + "/authorized_keys" }

    func keys() -> [String] {
        (readTextFile(file) ?? "").split(separator: "\n").map { String($0.trimmingWhitespace()) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// Writes the keys through a temporary file renamed into place, owned by the user.
    func write(_ keys: [String]) throws {
        if !FileSystem.exists(directory) {
            guard mkdir(directory, 0o700) == 0 else { throw AgentError.generic("failed to create \(directory): \(FileSystem.strerror(errno))") }
            chown(directory, uid, gid)
        }
        let temporary = file + ".qgad-tmp"
        let text = keys.map { $0 + "\n" }.joined()
        guard FileSystem.write(temporary, Array(text.utf8), mode: 0o600) else {
            throw AgentError.generic("failed to write \(file): \(FileSystem.strerror(errno))")
        }
        chown(temporary, uid, gid)
        guard rename(temporary, file) == 0 else { throw AgentError.generic("failed to replace \(file): \(FileSystem.strerror(errno))") }
    }
}
