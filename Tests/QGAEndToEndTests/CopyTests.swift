import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// `qga cp` and `qga cat` against Debian's qemu-ga and qgad on sockets. Both agents run on
/// this host, so a guest path is a path in the agent's temporary directory.
@Suite struct CopyTests {
    static func randomBytes(_ count: Int) -> [UInt8] {
        let data = FileHandle(forReadingAtPath: "/dev/urandom")?.readData(ofLength: count) ?? Data()
        return [UInt8](data)
    }

    static func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// Names in `directory` other than the agent's own files.
    static func leftovers(_ directory: String) -> [String] {
        let own: Set = ["agent.sock", "agent.log", "agent.pid", "qga.state", "none.conf"]
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !own.contains($0) }.sorted()
    }

    @Test(arguments: AgentKind.allCases, [0, 1, 20 << 20])
    func bothWaysByteForByte(kind: AgentKind, size: Int) throws {
        let agent = try AgentProcess(kind)
        let host = try TemporaryDirectory("qga-cp")
        defer { host.remove() }
        let data = CopyTests.randomBytes(size)
        #expect(data.count == size)
        #expect(FileManager.default.createFile(atPath: host.path + "/in", contents: Data(data)))
        let guestFile = agent.directory.path + "/copied"

        let up = try Binaries.qga(["cp", host.path + "/in", agent.socketPath + ":" + guestFile], timeout: 120)
        #expect(up.status == 0, "\(up)")
        #expect(up.stderr.isEmpty)
        #expect(CopyTests.contents(guestFile) == data)

        let down = try Binaries.qga(["cp", "unix:" + agent.socketPath + ":" + guestFile, host.path + "/out"], timeout: 120)
        #expect(down.status == 0, "\(down)")
        #expect(down.stderr.isEmpty)
        #expect(CopyTests.contents(host.path + "/out") == data)
        #expect(CopyTests.leftovers(host.path) == ["in", "out"])

        // Into a directory: the file keeps the guest's name.
        let intoDirectory = try Binaries.qga(["cp", agent.socketPath + ":" + guestFile, host.path], timeout: 120)
        #expect(intoDirectory.status == 0, "\(intoDirectory)")
        #expect(CopyTests.contents(host.path + "/copied") == data)
    }

    @Test(arguments: AgentKind.allCases)
    func standardInputAndOutput(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let data = CopyTests.randomBytes(100_000) + Array("\u{1B}]0;title\u{07}\n".utf8)
        let guestFile = agent.directory.path + "/from-stdin"
        let up = try run(Binaries.path("qga"), ["cp", "-", agent.socketPath + ":" + guestFile], stdin: data)
        #expect(up.status == 0, "\(up)")
        #expect(CopyTests.contents(guestFile) == data)

        // Not a terminal: the bytes come out unchanged.
        let down = try Binaries.qga(["cp", agent.socketPath + ":" + guestFile, "-"])
        #expect(down.status == 0, "\(down)")
        #expect(down.stdout == data)
        let cat = try Binaries.qga(["cat", agent.socketPath + ":" + guestFile])
        #expect(cat.status == 0, "\(cat)")
        #expect(cat.stdout == data)
        #expect(cat.stderr.isEmpty)
    }

    @Test(arguments: AgentKind.allCases)
    func missingGuestDirectoryLeavesNothing(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let host = try TemporaryDirectory("qga-cp")
        defer { host.remove() }
        #expect(FileManager.default.createFile(atPath: host.path + "/in", contents: Data("x".utf8)))
        let guestFile = agent.directory.path + "/no/such/dir/file"
        let up = try Binaries.qga(["cp", host.path + "/in", agent.socketPath + ":" + guestFile])
        #expect(up.status == 1, "\(up)")
        #expect(up.stderr.hasPrefix("qga: cannot open \(guestFile) in the guest: "), "\(up.stderr)")
        #expect(!up.stderr.contains("partial"))
        #expect(!FileManager.default.fileExists(atPath: agent.directory.path + "/no"))
        #expect(CopyTests.leftovers(agent.directory.path).isEmpty)

        // A guest file that does not exist: an error, and no host file.
        let down = try Binaries.qga(["cp", agent.socketPath + ":" + guestFile, host.path + "/out"])
        #expect(down.status == 1, "\(down)")
        #expect(down.stderr.hasPrefix("qga: cannot open \(guestFile) in the guest: "), "\(down.stderr)")
        #expect(CopyTests.leftovers(host.path) == ["in"])
    }

    @Test(arguments: AgentKind.allCases)
    func missingHostDirectoryLeavesNoPartialFile(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let host = try TemporaryDirectory("qga-cp")
        defer { host.remove() }
        let guestFile = agent.directory.path + "/source"
        #expect(FileManager.default.createFile(atPath: guestFile, contents: Data(CopyTests.randomBytes(4096))))
        let result = try Binaries.qga(["cp", agent.socketPath + ":" + guestFile, host.path + "/missing/out"])
        #expect(result.status == 5, "\(result)")
        #expect(result.stderr == "qga: cannot create a file in \(host.path)/missing: No such file or directory\n")
        #expect(CopyTests.leftovers(host.path).isEmpty)
    }

    /// A download that fails part way (the guest file is a directory: open succeeds, read
    /// fails) leaves no host file, not even the temporary one.
    @Test(arguments: AgentKind.allCases)
    func failedDownloadLeavesNoHostFile(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let host = try TemporaryDirectory("qga-cp")
        defer { host.remove() }
        let result = try Binaries.qga(["cp", agent.socketPath + ":" + agent.directory.path + "/", host.path + "/out"])
        #expect(result.status != 0, "\(result)")
        #expect(CopyTests.leftovers(host.path).isEmpty)
    }

    /// An agent that takes a first chunk and then fails: `write` decides each
    /// guest-file-write's reply, `read` each guest-file-read's; every command is recorded.
    static func failingAgent(write: @escaping @Sendable (Int) -> String, read: @escaping @Sendable (Int) -> String, log: Mutex<[String]>) throws -> FakeAgent {
        try FakeAgent { connection in
            var writes = 0
            var reads = 0
            CopyTests.serve(connection) { request in
                let command = request["execute"]?.string ?? ""
                log.withLock { $0.append(command) }
                switch command {
                case "guest-file-open": connection.send(#"{"return": 1000}"# + "\n")
                case "guest-file-write":
                    writes += 1
                    connection.send(write(writes) + "\n")
                case "guest-file-read":
                    reads += 1
                    connection.send(read(reads) + "\n")
                case "guest-file-seek": connection.send(#"{"return": {"position": 0, "eof": false}}"# + "\n")
                default: connection.send(#"{"return": {}}"# + "\n")
                }
                return true
            }
        }
    }

    /// Serves a connection as an agent does, syncs and pipelined requests alike: a sync is
    /// answered at once, every other request handed to `handle` in order until it returns
    /// false or the client leaves.
    static func serve(_ connection: FakeConnection, onSync: () -> Void = {}, _ handle: (JSONValue) throws -> Bool) rethrows {
        while let request = connection.nextRequest() {
            if request["execute"] == "guest-sync-delimited", let id = request["arguments"]?["id"] {
                onSync()
                connection.send([0xFF] + Array(#"{"return": \#(id)}"#.utf8) + [0x0A])
                continue
            }
            guard try handle(request) else { return }
        }
    }

    /// A real agent behind a relay that answers the second guest-file-write with an error
    /// instead of passing it on: the first chunk is in the guest file when the copy fails.
    /// Every command that reaches the relay is recorded; `meanwhile` runs just before the error.
    static func failingSecondWrite(
        to agent: AgentProcess, log: Mutex<[String]>, meanwhile: @escaping @Sendable () -> Void = {}
    ) throws -> FakeAgent {
        try FakeAgent { connection in
            let real = try agent.connect()
            var writes = 0
            CopyTests.serve(connection) { request in
                let command = request["execute"]?.string ?? ""
                log.withLock { $0.append(command) }
                if command == "guest-file-write" {
                    writes += 1
                    if writes == 2 {
                        meanwhile()
                        let id = request["id"].map { ", \"id\": \($0)" } ?? ""
                        connection.send(#"{"error": {"class": "GenericError", "desc": "failed to write to file: No space left on device"}"# + id + "}\n")
                        return true
                    }
                }
                guard let reply = real.call(JSONPrinter(layout: .compact).string(request), timeout: 30) else { return false }
                connection.send(JSONPrinter(layout: .compact).string(reply) + "\n")
                return true
            }
        }
    }

    /// 20 MiB both ways on each agent, through a relay that counts what reaches it: the
    /// chunks go pipelined (a handful of syncs for 20 writes and 20 reads, where one at a time
    /// took a sync each), and the copies' SHA-256 match the original's.
    @Test(arguments: AgentKind.allCases)
    func pipelinedCopyBothWays(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let counts = Mutex<[String: Int]>([:])
        let relay = try FakeAgent { connection in
            let real = try agent.connect()
            CopyTests.serve(connection, onSync: { counts.withLock { $0["sync", default: 0] += 1 } }) { request in
                counts.withLock { $0[request["execute"]?.string ?? "?", default: 0] += 1 }
                guard let reply = real.call(JSONPrinter(layout: .compact).string(request), timeout: 30) else { return false }
                connection.send(JSONPrinter(layout: .compact).string(reply) + "\n")
                return true
            }
        }
        defer { relay.stop() }
        let host = try TemporaryDirectory("qga-cp")
        defer { host.remove() }
        #expect(FileManager.default.createFile(atPath: host.path + "/in", contents: Data(CopyTests.randomBytes(20 << 20))))
        let guestFile = agent.directory.path + "/big"
        let up = try Binaries.qga(["cp", host.path + "/in", relay.socketPath + ":" + guestFile], timeout: 120)
        #expect(up.status == 0, "\(up)")
        let upCounts = counts.withLock { $0 }
        #expect(upCounts["guest-file-write"] == 20)
        #expect((upCounts["sync"] ?? 0) <= 4, "\(upCounts)")
        counts.withLock { $0 = [:] }
        let down = try Binaries.qga(["cp", relay.socketPath + ":" + guestFile, host.path + "/out"], timeout: 120)
        #expect(down.status == 0, "\(down)")
        let downCounts = counts.withLock { $0 }
        #expect((downCounts["guest-file-read"] ?? 0) >= 20)
        #expect((downCounts["sync"] ?? 0) <= 5, "\(downCounts)")
        let sums = try [host.path + "/in", guestFile, host.path + "/out"].map { path in
            try run("/usr/bin/sha256sum", [path]).stdout.prefix(64)
        }
        #expect(sums.count == 3 && sums[0].count == 64 && sums[0] == sums[1] && sums[1] == sums[2])
    }

    /// A write that fails after the first chunk: the handle is closed and the partial guest
    /// file removed through guest-exec; with guest-exec blocked it is reported instead, with
    /// the bytes written so far.
    @Test(arguments: AgentKind.allCases, [false, true])
    func failedUploadRemovesThePartialGuestFile(kind: AgentKind, execBlocked: Bool) throws {
        let agent = try AgentProcess(kind, execBlocked ? ["-b", "guest-exec"] : [])
        let log = Mutex<[String]>([])
        let relay = try CopyTests.failingSecondWrite(to: agent, log: log)
        defer { relay.stop() }
        let host = try TemporaryDirectory("qga-cp")
        defer { host.remove() }
        #expect(FileManager.default.createFile(atPath: host.path + "/in", contents: Data(CopyTests.randomBytes(3 << 19))))
        let guestFile = agent.directory.path + "/file"
        let result = try Binaries.qga(["cp", host.path + "/in", relay.socketPath + ":" + guestFile])
        #expect(result.status == 1, "\(result)")
        let failure = "qga: GenericError: failed to write to file: No space left on device\n"
        let commands = log.withLock { $0 }
        #expect(Array(commands.prefix(4)) == ["guest-file-open", "guest-file-write", "guest-file-write", "guest-file-close"])
        #expect(commands.dropFirst(4).first == "guest-exec")
        if execBlocked {
            #expect(result.stderr == failure + "qga: \(guestFile) in the guest is left partial (1048576 bytes written); remove it\n")
            #expect(CopyTests.contents(guestFile)?.count == 1 << 20)
        } else {
            #expect(result.stderr == failure)
            #expect(CopyTests.leftovers(agent.directory.path).isEmpty)
        }
    }

    /// What is no longer a regular file when the copy failed (here a guest user put a
    /// symbolic link in its place) is left alone and reported.
    @Test(arguments: AgentKind.allCases)
    func failedUploadLeavesWhatReplacedTheFileAlone(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let directory = agent.directory.path
        let log = Mutex<[String]>([])
        let relay = try CopyTests.failingSecondWrite(to: agent, log: log) {
            _ = rename(directory + "/file", directory + "/moved")
            _ = symlink(directory + "/moved", directory + "/file")
        }
        defer { relay.stop() }
        let host = try TemporaryDirectory("qga-cp")
        defer { host.remove() }
        #expect(FileManager.default.createFile(atPath: host.path + "/in", contents: Data(CopyTests.randomBytes(3 << 19))))
        let result = try Binaries.qga(["cp", host.path + "/in", relay.socketPath + ":" + directory + "/file"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasSuffix("qga: \(directory)/file in the guest is left partial (1048576 bytes written); remove it\n"), "\(result.stderr)")
        #expect(CopyTests.leftovers(directory) == ["file", "moved"])
        #expect(CopyTests.contents(directory + "/moved")?.count == 1 << 20)
    }

    /// A read that breaks after the first chunk: no host file, not even the temporary one,
    /// and the handle is closed.
    @Test func failedDownloadLeavesNoPartialHostFile() throws {
        let log = Mutex<[String]>([])
        let chunk = Base64Text.of(1 << 20)
        let agent = try CopyTests.failingAgent(
            write: { _ in "" },
            read: { n in n == 1 ? #"{"return": {"count": 1048576, "buf-b64": "\#(chunk)", "eof": false}}"# : #"{"return": {"count": 5, "buf-b64": "!!", "eof": false}}"# },
            log: log)
        defer { agent.stop() }
        let host = try TemporaryDirectory("qga-cp")
        defer { host.remove() }
        let result = try Binaries.qga(["cp", agent.socketPath + ":/guest/file", host.path + "/out"])
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains("guest-file-read returned a malformed reply"), "\(result.stderr)")
        #expect(CopyTests.leftovers(host.path).isEmpty)
        #expect(log.withLock { $0 }.last == "guest-file-close")
    }

    @Test func oneSideMustBeTheGuest() throws {
        let neither = try Binaries.qga(["cp", "/tmp/a", "/tmp/b"])
        #expect(neither.status == 64, "\(neither)")
        #expect(neither.stderr.contains("one side must be a guest file, TARGET:/PATH"))
        let both = try Binaries.qga(["cp", "vm1:/a", "vm2:/b"])
        #expect(both.status == 64, "\(both)")
        let cat = try Binaries.qga(["cat", "/tmp/a"])
        #expect(cat.status == 64, "\(cat)")
    }
}

/// Base64 text for tests, from Foundation.
enum Base64Text {
    static func of(_ count: Int) -> String { Data(CopyTests.randomBytes(count)).base64EncodedString() }
}
