import Foundation
import Glibc

/// A guest user for the ssh and user commands: a passwd file naming `qgatest`, whose home
/// is in a temporary directory, bind-mounted over /etc/passwd (with a chosen
/// nsswitch.conf) in a private mount namespace that only the agent sees. Needs root.
public final class FakeGuestUser {
    public static let name = "qgatest"
    public static let uid: uid_t = 4242

    public let directory: TemporaryDirectory
    public var home: String { directory.path + "/home" }
    public var ssh: String { home + "/.ssh" }
    public var keys: String { ssh + "/authorized_keys" }
    /// A root-only file outside the user's reach, for links to point at.
    public var secret: String { directory.path + "/secret" }
    public static let secretText = "root:$6$secret:19000:0:99999:7:::\n"

    public init(nsswitch: String = "files") throws {
        directory = try TemporaryDirectory("qga-user")
        chmod(directory.path, 0o755)
        let passwd = (try String(contentsOfFile: "/etc/passwd", encoding: .utf8))
            .split(separator: "\n").filter { !$0.hasPrefix(FakeGuestUser.name + ":") }.joined(separator: "\n")
            + "\n\(FakeGuestUser.name):x:\(FakeGuestUser.uid):\(FakeGuestUser.uid)::\(home):/bin/sh\n"
        try passwd.write(toFile: directory.path + "/passwd", atomically: false, encoding: .utf8)
        try "passwd: \(nsswitch)\ngroup: files\nshadow: files\n".write(toFile: directory.path + "/nsswitch.conf", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        chown(home, FakeGuestUser.uid, FakeGuestUser.uid)
        try FakeGuestUser.secretText.write(toFile: secret, atomically: false, encoding: .utf8)
        chmod(secret, 0o600)
    }

    deinit { directory.remove() }

    /// Runs an agent in its own mount namespace with this passwd and nsswitch.conf.
    public func agent(_ kind: AgentKind, executable: String? = nil, environment: [String: String] = [:]) throws -> AgentProcess {
        let script = #"mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@""#
        let launcher = ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script, "sh",
                        directory.path + "/passwd", directory.path + "/nsswitch.conf"]
        return try AgentProcess(kind, environment: environment, executable: executable, launcher: launcher)
    }

    /// Makes ~/.ssh as the user would, optionally with `text` as authorized_keys.
    public func makeSSH(keys text: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: ssh, withIntermediateDirectories: true)
        chown(ssh, FakeGuestUser.uid, FakeGuestUser.uid)
        if let text {
            try text.write(toFile: keys, atomically: false, encoding: .utf8)
            chown(keys, FakeGuestUser.uid, FakeGuestUser.uid)
        }
    }

    /// The secret is as it was: same bytes, root's, 0600, a regular file.
    public func secretIsUntouched() -> Bool {
        var info = stat()
        guard lstat(secret, &info) == 0 else { return false }
        let text = try? String(contentsOfFile: secret, encoding: .utf8)
        return text == FakeGuestUser.secretText && info.st_uid == 0 && info.st_mode & 0o7777 == 0o600
            && info.st_mode & S_IFMT == S_IFREG
    }

    /// A request's reply and the files after it, with this user's temporary path as `TMP`.
    public func outcome(of request: String, _ client: RawClient) -> String {
        let reply = client.call(request).map { String(describing: $0) } ?? "no reply"
        return (reply + "\n" + snapshot()).replacingOccurrences(of: directory.path, with: "TMP")
    }

    /// What a test compares between agents: the file's bytes, mode and owner, and ~/.ssh's.
    public func snapshot() -> String {
        func describe(_ path: String) -> String {
            var info = stat()
            guard lstat(path, &info) == 0 else { return "absent" }
            return "mode \(String(info.st_mode, radix: 8)) owner \(info.st_uid):\(info.st_gid)"
        }
        let bytes = FileManager.default.contents(atPath: keys).map { Array($0) } ?? []
        return ".ssh \(describe(ssh)); keys \(describe(keys)) \(bytes)"
    }
}
