import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// `qga cp -r` against Debian's qemu-ga and qgad on sockets (the agent is this machine, and
/// its tar does the guest's side), and against a fake agent serving a hostile archive.
@Suite struct CopyTreeTests {
    /// An agent whose guest-exec children put their temporary files in `tmp` (TMPDIR), so
    /// that a test can see that none is left behind; `path` replaces the agent's PATH.
    static func agent(_ kind: AgentKind, tmp: TemporaryDirectory, path: String? = nil, _ extra: [String] = []) throws -> AgentProcess {
        var environment = ["TMPDIR": tmp.path]
        if let path { environment["PATH"] = path }
        return try AgentProcess(kind, extra, environment: environment)
    }

    /// A tree with nested directories, an empty and a one-byte file, names with spaces and
    /// non-ASCII letters, a long path, and a symbolic link.
    static func makeTree(at root: String) throws {
        let manager = FileManager.default
        let long = String(repeating: "long-name-", count: 12)
        try manager.createDirectory(atPath: root + "/a/b/c", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: root + "/empty dir", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: root + "/a/\(long)", withIntermediateDirectories: true)
        #expect(manager.createFile(atPath: root + "/empty", contents: Data()))
        #expect(manager.createFile(atPath: root + "/one", contents: Data("x".utf8)))
        #expect(manager.createFile(atPath: root + "/a/b/c/spaced name é ☃.txt", contents: Data("unicode\n".utf8)))
        #expect(manager.createFile(atPath: root + "/a/\(long)/\(long).bin", contents: Data(CopyTests.randomBytes(700_000))))
        try manager.createSymbolicLink(atPath: root + "/a/link", withDestinationPath: "../one")
        chmod(root + "/one", 0o750)
    }

    /// Every path below `root` with what it is: a file's bytes, a link's target, or "dir".
    static func snapshot(_ root: String) -> [String: String] {
        var result: [String: String] = [:]
        let manager = FileManager.default
        for path in (manager.subpaths(atPath: root) ?? []) {
            let full = root + "/" + path
            if let target = try? manager.destinationOfSymbolicLink(atPath: full) {
                result[path] = "link:" + target
            } else if HostFile.isDirectory(full) {
                result[path] = "dir"
            } else {
                var info = stat()
                stat(full, &info)
                result[path] = "mode \(String(info.st_mode & 0o777, radix: 8)) " + ((manager.contents(atPath: full)?.base64EncodedString()) ?? "?")
            }
        }
        return result
    }

    @Test(arguments: AgentKind.allCases)
    func treeBothWays(kind: AgentKind) throws {
        let tmp = try TemporaryDirectory("qga-cpr-tmp")
        defer { tmp.remove() }
        let agent = try CopyTreeTests.agent(kind, tmp: tmp)
        let host = try TemporaryDirectory("qga-cpr")
        defer { host.remove() }
        try CopyTreeTests.makeTree(at: host.path + "/tree")
        let original = CopyTreeTests.snapshot(host.path + "/tree")
        #expect(original.count == 10)

        // To a new guest path: it becomes the tree.
        let guestTree = agent.directory.path + "/copied"
        let up = try Binaries.qga(["cp", "-r", host.path + "/tree", agent.socketPath + ":" + guestTree], timeout: 120)
        #expect(up.status == 0, "\(up)")
        #expect(up.stderr.isEmpty)
        #expect(CopyTreeTests.snapshot(guestTree) == original)
        // Into an existing guest directory: the tree goes inside it under its own name.
        let into = try Binaries.qga(["cp", "-r", host.path + "/tree/", agent.socketPath + ":" + guestTree + "/"], timeout: 120)
        #expect(into.status == 0, "\(into)")
        #expect(CopyTreeTests.snapshot(guestTree + "/tree") == original)

        // Back to a new host path, and into an existing host directory.
        let down = try Binaries.qga(["cp", "-r", agent.socketPath + ":" + guestTree + "/tree", host.path + "/back"], timeout: 120)
        #expect(down.status == 0, "\(down)")
        #expect(down.stderr.isEmpty)
        #expect(CopyTreeTests.snapshot(host.path + "/back") == original)
        try FileManager.default.createDirectory(atPath: host.path + "/existing", withIntermediateDirectories: false)
        let downInto = try Binaries.qga(["cp", "-r", agent.socketPath + ":" + guestTree + "/tree", host.path + "/existing"], timeout: 120)
        #expect(downInto.status == 0, "\(downInto)")
        #expect(CopyTreeTests.snapshot(host.path + "/existing/tree") == original)

        // A host tree is never copied over: the existing one stays as it was.
        let again = try Binaries.qga(["cp", "-r", agent.socketPath + ":" + guestTree + "/tree", host.path + "/existing"], timeout: 120)
        #expect(again.status == 5, "\(again)")
        #expect(again.stderr == "qga: \(host.path)/existing/tree exists; qga cp -r does not copy over or into an existing tree\n")
        #expect(CopyTests.leftovers(host.path) == ["back", "existing", "tree"])
        #expect(CopyTests.leftovers(host.path + "/existing") == ["tree"])
        // No temporary archive is left in the guest.
        #expect(CopyTests.leftovers(tmp.path).isEmpty)
    }

    @Test(arguments: AgentKind.allCases)
    func missingGuestDirectory(kind: AgentKind) throws {
        let tmp = try TemporaryDirectory("qga-cpr-tmp")
        defer { tmp.remove() }
        let agent = try CopyTreeTests.agent(kind, tmp: tmp)
        let host = try TemporaryDirectory("qga-cpr")
        defer { host.remove() }
        try CopyTreeTests.makeTree(at: host.path + "/tree")
        let missing = agent.directory.path + "/no/such"
        let up = try Binaries.qga(["cp", "-r", host.path + "/tree", agent.socketPath + ":" + missing + "/dir"])
        #expect(up.status == 1, "\(up)")
        #expect(up.stderr == "qga: cannot copy into \(missing)/dir in the guest: \(missing): No such directory\n")
        #expect(CopyTests.leftovers(agent.directory.path).isEmpty)

        let down = try Binaries.qga(["cp", "-r", agent.socketPath + ":" + missing, host.path + "/back"])
        #expect(down.status == 1, "\(down)")
        #expect(down.stderr == "qga: cannot archive \(missing) in the guest: \(missing): No such file or directory\n")
        #expect(CopyTests.leftovers(host.path) == ["tree"])
        #expect(CopyTests.leftovers(tmp.path).isEmpty)
    }

    /// guest-exec blocked: a message that says so, before anything is written anywhere.
    @Test(arguments: AgentKind.allCases)
    func guestExecDisabled(kind: AgentKind) throws {
        let tmp = try TemporaryDirectory("qga-cpr-tmp")
        defer { tmp.remove() }
        let agent = try CopyTreeTests.agent(kind, tmp: tmp, ["-b", "guest-exec"])
        let host = try TemporaryDirectory("qga-cpr")
        defer { host.remove() }
        try CopyTreeTests.makeTree(at: host.path + "/tree")
        for arguments in [
            ["cp", "-r", host.path + "/tree", agent.socketPath + ":" + agent.directory.path + "/copied"],
            ["cp", "-r", agent.socketPath + ":" + host.path + "/tree", host.path + "/back"],
        ] {
            let result = try Binaries.qga(arguments)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.hasPrefix("qga: qga cp -r runs tar in the guest through guest-exec, which the agent refuses: "), "\(result.stderr)")
            #expect(result.stderr.contains("disabled"), "\(result.stderr)")
        }
        #expect(CopyTests.leftovers(agent.directory.path).isEmpty)
        #expect(CopyTests.leftovers(host.path) == ["tree"])
        #expect(CopyTests.leftovers(tmp.path).isEmpty)
    }

    /// A guest without tar (here: an agent whose PATH has none).
    @Test(arguments: AgentKind.allCases)
    func guestWithoutTar(kind: AgentKind) throws {
        let tmp = try TemporaryDirectory("qga-cpr-tmp")
        defer { tmp.remove() }
        let agent = try CopyTreeTests.agent(kind, tmp: tmp, path: tmp.path + "/no-bin")
        let host = try TemporaryDirectory("qga-cpr")
        defer { host.remove() }
        try CopyTreeTests.makeTree(at: host.path + "/tree")
        let up = try Binaries.qga(["cp", "-r", host.path + "/tree", agent.socketPath + ":" + agent.directory.path + "/copied"])
        #expect(up.status == 1, "\(up)")
        #expect(up.stderr == "qga: \(agent.socketPath): the guest has no tar in its PATH; qga cp -r needs it\n")
        let down = try Binaries.qga(["cp", "-r", agent.socketPath + ":" + host.path + "/tree", host.path + "/back"])
        #expect(down.status == 1, "\(down)")
        #expect(CopyTests.leftovers(agent.directory.path).isEmpty)
        #expect(CopyTests.leftovers(host.path) == ["tree"])
    }

    /// An agent that runs nothing but serves `archive` as the guest's tar output; it records
    /// the commands and the guest-exec argument lists.
    static func hostileAgent(_ archive: [UInt8], log: Mutex<[String]>) throws -> FakeAgent {
        try FakeAgent { connection in
            var position = 0
            CopyTests.serve(connection) { request in
                let command = request["execute"]?.string ?? ""
                log.withLock { $0.append(command) }
                switch command {
                case "guest-exec": connection.send(#"{"return": {"pid": 42}}"# + "\n")
                case "guest-exec-status":
                    let out = Base64.encode(Array("/tmp/qga-cp.fake\n".utf8))
                    connection.send(#"{"return": {"exited": true, "exitcode": 0, "out-data": "\#(out)"}}"# + "\n")
                case "guest-file-open": connection.send(#"{"return": 1000}"# + "\n")
                case "guest-file-seek":
                    position = request["arguments"]?["whence"]?.string == "end" ? archive.count : 0
                    connection.send(#"{"return": {"position": \#(position), "eof": false}}"# + "\n")
                case "guest-file-read":
                    let chunk = Array(archive[position...])
                    position = archive.count
                    connection.send(#"{"return": {"count": \#(chunk.count), "buf-b64": "\#(Base64.encode(chunk))", "eof": true}}"# + "\n")
                default: connection.send(#"{"return": {}}"# + "\n")
                }
                return true
            }
        }
    }

    /// Archives no honest tar writes from a tree: each is refused and nothing is written.
    @Test(arguments: ["dotdot", "absolute", "link then file", "device"])
    func hostileArchiveIsRefused(name: String) throws {
        let host = try TemporaryDirectory("qga-cpr")
        defer { host.remove() }
        let outside = host.path + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        let root = TarBuilder.entry("./", type: "5")
        let owned = Array("owned".utf8)
        let (archive, reason): ([UInt8], String) = switch name {
        case "dotdot": (root + TarBuilder.entry("../escape", type: "0", data: owned), "../escape climbs out with '..'")
        case "absolute": (root + TarBuilder.entry(outside + "/absolute", type: "0", data: owned), "\(outside)/absolute is an absolute path")
        case "link then file":
            (root + TarBuilder.entry("./door", type: "2", link: outside) + TarBuilder.entry("./door/planted", type: "0", data: owned),
             "./door/planted goes through a symbolic link or a file")
        default: (root + TarBuilder.entry("./null", type: "3"), "./null in the guest's tree is a character device")
        }
        let log = Mutex<[String]>([])
        let agent = try CopyTreeTests.hostileAgent(archive + TarBuilder.end, log: log)
        defer { agent.stop() }
        let result = try Binaries.qga(["cp", "-r", agent.socketPath + ":/guest/tree", host.path + "/dest/"])
        #expect(result.status != 0, "\(name): \(result)")
        #expect(result.stderr.contains(reason), "\(name): \(result.stderr)")
        // Nothing written anywhere: not the destination, not beside it, not outside.
        #expect(CopyTests.leftovers(host.path) == ["outside"], "\(name)")
        #expect(CopyTests.leftovers(host.path + "/outside").isEmpty, "\(name)")
        // The guest's temporary archive was removed all the same.
        #expect(log.withLock { $0 }.suffix(3) == ["guest-file-close", "guest-exec", "guest-exec-status"], "\(name)")
    }
}

/// Host file checks for the tests.
enum HostFile {
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
