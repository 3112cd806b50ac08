import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// qgad's serving loop, its files and its log: what must never trap, block or leak.
/// Freezing uses a mount point list that matches nothing, so no host filesystem is frozen.
@Suite struct DaemonCoreTests {
    static let emptyFreeze = #"{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/no/such/mountpoint"]}}"#

    // MARK: issue 8, item 3: no trap from a state file or a freeze timeout

    @Test func aHandleCounterAtInt64MaxWraps() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try "[global]\nfd_counter=9223372036854775807\n".write(toFile: dir.path + "/qga.state", atomically: true, encoding: .utf8)
        let agent = try AgentProcess(.qgad, ["-t", dir.path])
        let client = try agent.connect()
        let open = #"{"execute":"guest-file-open","arguments":{"path":"/dev/null"}}"#
        #expect(client.call(open)?["return"]?.number?.text == "9223372036854775807")
        #expect(client.call(open)?["return"] == 1000)
        #expect(client.call(open)?["return"] == 1001)
        #expect(kill(agent.pid, 0) == 0)
    }

    /// A timeout too large for milliseconds in 64 bits: refused when the options are read,
    /// or served; never a crash once frozen.
    @Test(arguments: ["1e300", "inf", "1e16"]) func aHugeFreezeTimeoutNeverTraps(value: String) throws {
        let agent: AgentProcess
        do {
            agent = try AgentProcess(.qgad, ["--freeze-timeout", value])
        } catch {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let refused = try run(
                try Binaries.path("qgad"), ["-m", "unix-listen", "-p", dir.path + "/s", "-t", dir.path, "--freeze-timeout", value],
                environment: ["QGA_CONF": "/nonexistent"], timeout: 10)
            #expect(refused.status == 1, "qgad neither served nor refused --freeze-timeout \(value): \(refused)")
            return
        }
        let client = try agent.connect()
        #expect(client.call(Self.emptyFreeze)?["return"] == 0)
        #expect(client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"] == "frozen")
        #expect(client.call(#"{"execute":"guest-fsfreeze-thaw"}"#)?["return"] == 0)
        #expect(kill(agent.pid, 0) == 0)
    }

    // MARK: item 4: a log that blocks never stalls the agent

    /// A log FIFO whose buffer is full (a reader that never reads): every write to it blocks.
    @Test func aLogThatBlocksDoesNotStallTheAgent() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let fifo = dir.path + "/log"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDWR | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let chunk = [UInt8](repeating: 0x2E, count: 4096)
        while chunk.withUnsafeBytes({ write(reader, $0.baseAddress, $0.count) }) > 0 {}
        let agent = try AgentProcess(.qgad, ["-v", "-l", fifo])
        let client = try agent.connect()
        for i in 0..<20 {
            #expect(client.call(#"{"execute":"guest-ping","id":\#(i)}"#)?["id"] == .number(JSONNumber(i)))
        }
        kill(agent.pid, SIGTERM)
        #expect(waitForExit(agent.pid, timeout: 15) == 0)
    }

    /// Started frozen: as qemu-ga, the log file is opened only at thaw (opening a FIFO
    /// nobody reads blocks, like writing to a frozen filesystem).
    @Test func startingFrozenDefersTheLogFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(FileManager.default.createFile(atPath: dir.path + "/qga.state.isfrozen", contents: Data()))
        let fifo = dir.path + "/log"
        #expect(mkfifo(fifo, 0o600) == 0)
        let agent = try AgentProcess(.qgad, ["-v", "-t", dir.path, "-l", fifo])
        let client = try agent.connect()
        #expect(client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"] == "frozen")
        #expect(client.call(#"{"execute":"guest-fsfreeze-thaw"}"#)?["return"] == 0)
        // The log file is being opened now, by a thread that waits for a reader: the agent
        // goes on serving.
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        var text = ""
        let end = Date().addingTimeInterval(10)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !text.contains("debug: running guest-ping"), Date() < end {
            var entry = pollfd(fd: reader, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, 100)
            let n = read(reader, &buffer, buffer.count)
            if n > 0 { text += String(decoding: buffer[0..<n], as: UTF8.self) }
        }
        #expect(text.contains("debug: running guest-ping"), "log after thaw: \(text)")
    }

    /// As qemu-ga: a daemon started frozen writes its pidfile at the first thaw.
    @Test func startingFrozenDefersThePidfile() throws {
        let agent = try DaemonizedAgent(startFrozen: true)
        let client = try agent.connect()
        #expect(client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"] == "frozen")
        #expect(!FileManager.default.fileExists(atPath: agent.pidfile))
        #expect(client.call(#"{"execute":"guest-fsfreeze-thaw"}"#)?["return"] == 0)
        #expect(poll(seconds: 5) { agent.pid != nil })
    }

    // MARK: item 6: a terminal opened by guest-file-open is not qgad's controlling terminal

    @Test func aPtyDoesNotBecomeTheControllingTerminal() throws {
        // A daemon is a session leader without a terminal: the one that could acquire one.
        let agent = try DaemonizedAgent()
        defer { agent.stop() }
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        #expect(master >= 0)
        defer { close(master) }
        // unlockpt and ptsname by hand (they do not import): TIOCSPTLCK, TIOCGPTN.
        var unlock: Int32 = 0
        var number: UInt32 = 0
        #expect(ioctl(master, 0x4004_5431, &unlock) == 0 && ioctl(master, 0x8004_5430, &number) == 0)
        let slave = "/dev/pts/\(number)"
        let client = try agent.connect()
        let opened = client.call(#"{"execute":"guest-file-open","arguments":{"path":"\#(slave)","mode":"r+"}}"#)
        #expect(opened?["return"]?.number != nil, "\(String(describing: opened))")
        let stat = try String(contentsOfFile: "/proc/\(try #require(agent.pid))/stat", encoding: .utf8)
        // Field 7, tty_nr, counted after the parenthesised command name.
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        #expect(fields.count > 5 && fields[4] == "0", "qgad acquired a controlling terminal: \(stat)")
    }

    // MARK: item 7: a client that never reads stalls only itself

    @Test func aClientThatNeverReadsDoesNotStallTheLoop() throws {
        let agent = try AgentProcess(.qgad, ["--freeze-timeout", "1"])
        let marker = agent.directory.path + "/qga.state.isfrozen"
        let client = ReplyReader(try #require(connectUnix(agent.socketPath)))
        let fd = client.fd
        #expect(client.call(Self.emptyFreeze)?["return"] == 0)
        #expect(FileManager.default.fileExists(atPath: marker))

        // Requests until the agent stops taking them: its replies fill the socket.
        let sent = flood(fd)
        #expect(sent > 0)
        #expect(poll(seconds: 10) { !FileManager.default.fileExists(atPath: marker) }, "--freeze-timeout did not thaw")
        let rss = try residentKiB(agent.pid)
        #expect(rss < 64 << 10, "qgad holds \(rss) KiB for a client that does not read")

        // Nothing was lost: every request is answered once the client reads.
        var answered = 0
        while answered < sent, let reply = client.next() {
            if reply["return"]?["version"] != nil { answered += 1 }
        }
        #expect(answered == sent)

        // Stalled again, SIGTERM is still acted on promptly (the old loop held it 30 s per reply).
        #expect(flood(fd) > 0)
        kill(agent.pid, SIGTERM)
        #expect(waitForExit(agent.pid, timeout: 15) == 0)
    }

    /// Sends guest-info requests (replies of a few KiB each) until the socket stays full
    /// for 300 ms; returns how many were sent whole.
    func flood(_ fd: Int32) -> Int {
        let request = Array(#"{"execute":"guest-info"}"#.utf8)
        var sent = 0
        while true {
            let n = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if n == request.count {
                sent += 1
                continue
            }
            if n > 0 {
                // A partial request: finish it when there is room, so the stream stays whole.
                let rest = Array(request[n...])
                var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&entry, 1, 300) > 0 else { return sent }
                _ = rest.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                sent += 1
                continue
            }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&entry, 1, 300) <= 0 { return sent }
        }
    }

    // MARK: item 8: modes

    @Test func newFilesAreNotWorldWritableAndTheSocketIsRootOnly() throws {
        let agent = try AgentProcess(.qgad)
        let client = try agent.connect()
        let path = agent.directory.path + "/created"
        let opened = client.call(#"{"execute":"guest-file-open","arguments":{"path":"\#(path)","mode":"w"}}"#)
        #expect(opened?["return"]?.number != nil)
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o7777 == 0o644, "new file mode \(String(info.st_mode & 0o7777, radix: 8))")
        #expect(stat(agent.socketPath, &info) == 0 && info.st_mode & 0o7777 == 0o600, "socket mode \(String(info.st_mode & 0o7777, radix: 8))")
        let status = try String(contentsOfFile: "/proc/\(agent.pid)/status", encoding: .utf8)
        #expect(status.contains("Umask:\t0077"))
    }

    // MARK: item 15: a pidfile only for a daemon, as qemu-ga

    @Test(arguments: AgentKind.allCases) func agentsInTheForegroundShareAPidfile(kind: AgentKind) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pidfile = dir.path + "/shared.pid"
        let first = try AgentProcess(kind, ["-f", pidfile])
        let second = try AgentProcess(kind, ["-f", pidfile])
        #expect(try first.connect().call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        #expect(try second.connect().call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        #expect(!FileManager.default.fileExists(atPath: pidfile))
    }

    @Test func aDaemonWritesItsPidfileAndRemovesItAtExit() throws {
        let agent = try DaemonizedAgent()
        #expect(try agent.connect().call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        var info = stat()
        #expect(stat(agent.pidfile, &info) == 0 && info.st_mode & 0o777 == 0o600)
        agent.stop()
        #expect(poll(seconds: 5) { !FileManager.default.fileExists(atPath: agent.pidfile) })
    }

    // MARK: item 16: silent unless something goes wrong or -v, as qemu-ga

    @Test(arguments: AgentKind.allCases) func silentWithoutVerbose(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        #expect(try agent.connect().call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        kill(agent.pid, SIGTERM)
        #expect(waitForExit(agent.pid, timeout: 30) == 0)
        let log = try String(contentsOfFile: agent.directory.path + "/agent.log", encoding: .utf8)
        #expect(log.isEmpty, "\(kind) wrote: \(log)")
    }

    @Test func verboseLogsCommands() throws {
        let agent = try AgentProcess(.qgad, ["-v"])
        #expect(try agent.connect().call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        let log = agent.directory.path + "/agent.log"
        #expect(poll(seconds: 5) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("guest-ping") })
    }
}

/// `qgad -d` in a temporary directory: a daemon found through its pidfile.
final class DaemonizedAgent {
    let directory: TemporaryDirectory
    let socketPath: String
    let pidfile: String

    /// With `startFrozen`, the state directory holds the frozen marker, so the pidfile
    /// appears only at the first thaw.
    init(startFrozen: Bool = false) throws {
        directory = try TemporaryDirectory("qgad-daemon")
        socketPath = directory.path + "/agent.sock"
        pidfile = directory.path + "/agent.pid"
        if startFrozen {
            guard FileManager.default.createFile(atPath: directory.path + "/qga.state.isfrozen", contents: Data()) else {
                throw MissingTool("cannot create the frozen marker")
            }
        }
        let started = try run(
            try Binaries.path("qgad"), ["-d", "-m", "unix-listen", "-p", socketPath, "-t", directory.path, "-f", pidfile],
            environment: ["QGA_CONF": directory.path + "/none.conf"], timeout: 10)
        guard started.status == 0 else { throw MissingTool("qgad -d failed: \(started)") }
        let socketPath = socketPath
        let up = poll(seconds: 10) {
            guard let fd = connectUnix(socketPath) else { return false }
            close(fd)
            return true
        }
        guard up else { throw MissingTool("qgad -d did not listen on \(socketPath)") }
        if !startFrozen && pid == nil { throw MissingTool("qgad -d wrote no pidfile") }
    }

    /// The daemon's pid, from its pidfile.
    var pid: pid_t? {
        let text = (try? String(contentsOfFile: pidfile, encoding: .utf8)) ?? ""
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func connect() throws -> ReplyReader {
        guard let fd = connectUnix(socketPath) else { throw MissingTool("cannot connect to \(socketPath)") }
        return ReplyReader(fd)
    }

    /// Not our child: SIGTERM (after a thaw, so that it has a pidfile and quits), then
    /// SIGKILL if it outlives 5 s.
    func stop() {
        if pid == nil, let client = try? connect() {
            _ = client.call(#"{"execute":"guest-fsfreeze-thaw"}"#)
            _ = poll(seconds: 5) { pid != nil }
        }
        guard let pid, kill(pid, 0) == 0 else { return }
        kill(pid, SIGTERM)
        if !poll(seconds: 5, { kill(pid, 0) != 0 }) { kill(pid, SIGKILL) }
    }

    deinit {
        stop()
        directory.remove()
    }
}

/// A connection read with its own framer, for a client that must also send without waiting.
final class ReplyReader {
    let fd: Int32
    private var framer = Framer()
    private var pending: [JSONValue] = []

    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    func call(_ request: String) -> JSONValue? {
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return next()
    }

    /// The next reply, waiting up to 10 s; nil on timeout or end of stream.
    func next() -> JSONValue? {
        let end = Date().addingTimeInterval(10)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while pending.isEmpty {
            let left = end.timeIntervalSinceNow
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard left > 0, poll(&entry, 1, Int32(left * 1000)) > 0 else { return nil }
            let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if n == 0 { return nil }
            if n < 0 { continue }
            for event in framer.feed(Array(chunk[0..<n])) {
                if case .message(let bytes) = event, let value = try? JSONParser.parse(bytes) { pending.append(value) }
            }
        }
        return pending.removeFirst()
    }
}

/// Resident memory of a process, in KiB.
func residentKiB(_ pid: pid_t) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}
