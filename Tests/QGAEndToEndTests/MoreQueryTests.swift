import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// A fake agent that answers each sync, records every request after it, and answers it
/// from `replies` by command: a reply's JSON text, or nil for silence (as a command that
/// replies only on error does on success).
private final class RecordingAgent {
    let requests = Mutex<[JSONValue]>([])
    private(set) var agent: FakeAgent! = nil

    init(_ replies: [String: String?]) throws {
        let requests = requests
        agent = try FakeAgent { connection in
            while connection.answerSync() != nil {
                guard let request = connection.nextRequest() else { return }
                requests.withLock { $0.append(request) }
                if let reply = replies[request["execute"]?.string ?? ""] ?? nil { connection.send(reply + "\n") }
            }
        }
    }

    var socketPath: String { agent.socketPath }
    var recorded: [JSONValue] { requests.withLock { $0 } }
}

private func qga(_ arguments: [String], stdin: [UInt8]? = nil) throws -> ProcessResult {
    try run(try Binaries.path("qga"), arguments, stdin: stdin)
}

private func hostNanoseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

private let runsAsRoot = getuid() == 0

/// The queries added last, end to end: time and stats against Debian's qemu-ga and qgad,
/// ssh-keys against both for a throwaway user, and what must not touch this machine
/// (setting the clock, suspending, passwords, fstrim) against a fake agent that records
/// the requests.
@Suite struct MoreQueryTests {
    static let kinds: [AgentKind] = [.qemuGA, .qgad]

    @Test(arguments: kinds)
    func timeOnARealAgent(_ kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let human = try qga(["time", agent.socketPath])
        #expect(human.status == 0 && human.stderr.isEmpty, "\(human)")
        let lines = human.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(human)")
        #expect(lines.first?.range(of: #"^utc:    \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$"#, options: .regularExpression) != nil, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("local:  ") == true, "\(lines)")
        // Same machine, same clock: the offset is the round trip.
        let offset = try #require(lines.last?.wholeMatch(of: /offset: ([+-]\d+\.\d{3}) s.*/)?.1).flatMap { Double($0) }
        #expect(try #require(offset).magnitude < 5, "\(lines)")

        let before = hostNanoseconds()
        let json = try qga(["time", agent.socketPath, "--json"])
        let after = hostNanoseconds()
        #expect(json.status == 0, "\(json)")
        let guest = try #require(try JSONParser.parse(json.stdout).number?.int64)
        #expect(guest > before - 5_000_000_000 && guest < after + 5_000_000_000)
    }

    @Test(arguments: kinds)
    func statsOnARealAgent(_ kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        for (query, header) in [("cpu", ["CPU", "USER", "NICE", "SYSTEM", "IDLE"]), ("disk", ["NAME", "MAJ:MIN", "READS", "READ-SECTORS"])] {
            let human = try qga(["stats", query, agent.socketPath])
            #expect(human.status == 0 && human.stderr.isEmpty, "\(human)")
            let lines = human.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            #expect(lines.first.map { Array($0.split(separator: " ").map(String.init).prefix(header.count)) } == header, "\(human)")
            #expect(!lines.contains { $0.hasSuffix(" ") })

            let json = try qga(["stats", query, agent.socketPath, "--json", "--compact"])
            #expect(json.status == 0, "\(json)")
            let entries = try #require(try JSONParser.parse(json.stdout).array)
            #expect(lines.count == entries.count + 1, "\(query): a row for each entry")
            #expect(json.stdoutText.hasPrefix(query == "cpu" ? #"[{"# : #"[{"name":"#), "\(json)")
        }
    }

    /// list, add (from arguments and from stdin), remove and --reset on a throwaway user
    /// whose passwd entry only the agent sees (as UserAccountTests does).
    @Test(.enabled(if: runsAsRoot, "needs root for a private mount namespace"), arguments: kinds)
    func sshKeysOnARealAgent(_ kind: AgentKind) throws {
        let guest = try FakeGuestUser()
        try guest.makeSSH(keys: "ssh-ed25519 AAAA k1\n")
        let agent = try guest.agent(kind)
        let sock = agent.socketPath
        let user = FakeGuestUser.name
        func list() throws -> String {
            let result = try qga(["ssh-keys", "list", user, sock])
            #expect(result.status == 0 && result.stderr.isEmpty, "\(result)")
            return result.stdoutText
        }
        #expect(try list() == "ssh-ed25519 AAAA k1\n")
        #expect(try qga(["ssh-keys", "add", user, sock, "-k", "ssh-rsa BBBB k2"]).status == 0)
        let fromStdin = try qga(["ssh-keys", "add", user, sock, "-f", "-"], stdin: Array("# keys\n\nssh-ed25519 CCCC k3\r\n".utf8))
        #expect(fromStdin.status == 0 && fromStdin.stdout.isEmpty, "\(fromStdin)")
        // Both agents list the file's keys last line first.
        #expect(try list() == "ssh-ed25519 CCCC k3\nssh-rsa BBBB k2\nssh-ed25519 AAAA k1\n")
        let json = try qga(["ssh-keys", "list", user, sock, "--json", "--compact"])
        #expect(json.stdoutText == #"{"keys":["ssh-ed25519 CCCC k3","ssh-rsa BBBB k2","ssh-ed25519 AAAA k1"]}"# + "\n")

        let remove = try qga(["ssh-keys", "remove", user, sock, "-k", "ssh-ed25519 AAAA k1", "--json"])
        #expect(remove.status == 0 && remove.stdoutText == "{}\n", "\(remove)")
        #expect(try list() == "ssh-ed25519 CCCC k3\nssh-rsa BBBB k2\n")
        #expect(try qga(["ssh-keys", "add", user, sock, "--reset"]).status == 0)
        #expect(try list() == "")

        let unknown = try qga(["ssh-keys", "list", "nosuchuser", sock])
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("qga: GenericError: "), "\(unknown)")
    }

    // MARK: Against a fake agent: nothing here may change this machine

    static let readBack = #"{"return": 1796223600000000000}"#

    /// The exact guest-set-time requests of --set, --sync and --from-rtc, then the read-back.
    @Test func timeSetSyncAndFromRTC() throws {
        let replies: [String: String?] = ["guest-set-time": #"{"return": {}}"#, "guest-get-time": Self.readBack]
        let set = try RecordingAgent(replies)
        let result = try qga(["time", set.socketPath, "--set", "2026-12-02 16:00:00+01:00"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText.hasPrefix("utc:    2026-12-02 15:00:00.000 UTC\n"), "\(result)")
        #expect(set.recorded == [
            ["execute": "guest-set-time", "arguments": ["time": .number(JSONNumber(Int64(1_796_223_600_000_000_000)))]],
            ["execute": "guest-get-time"],
        ])

        let sync = try RecordingAgent(replies)
        let before = hostNanoseconds()
        let synced = try qga(["time", sync.socketPath, "--sync", "--json"])
        let after = hostNanoseconds()
        #expect(synced.stdoutText == "1796223600000000000\n", "\(synced)")
        let sent = try #require(sync.recorded.first?["arguments"]?["time"]?.number?.int64)
        #expect(sent >= before - 1_000_000 && sent <= after + 1_000_000)

        let rtc = try RecordingAgent(replies)
        #expect(try qga(["time", rtc.socketPath, "--from-rtc"]).status == 0)
        #expect(rtc.recorded == [["execute": "guest-set-time"], ["execute": "guest-get-time"]])

        // A refused time is refused before any agent is reached.
        let refused = try qga(["time", "/nonexistent/agent.sock", "--set", "2026-12-02T15:00:00"])
        #expect(refused.status == 64 && refused.stderr.contains("no time zone"), "\(refused)")
    }

    /// Each mode's command; the agent's silence is success (nothing printed, {} with --json);
    /// its error is reported.
    @Test func suspend() throws {
        for mode in ["ram", "disk", "hybrid"] {
            let agent = try RecordingAgent(["guest-suspend-\(mode)": nil])
            let result = try qga(["suspend", mode, agent.socketPath, "--timeout", "0.3"])
            #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty, "\(result)")
            #expect(agent.recorded == [["execute": .string("guest-suspend-\(mode)")]])
        }
        let silent = try RecordingAgent(["guest-suspend-ram": nil])
        #expect(try qga(["suspend", "ram", silent.socketPath, "--timeout", "0.3", "--json"]).stdoutText == "{}\n")
        let refusing = try RecordingAgent([
            "guest-suspend-disk": #"{"error": {"class": "GenericError", "desc": "suspend mode is not supported"}}"#,
        ])
        let refused = try qga(["suspend", "disk", refusing.socketPath])
        #expect(refused.status == 1 && refused.stderr == "qga: GenericError: suspend mode is not supported\n", "\(refused)")
    }

    /// The password comes from stdin's first line and travels base64-encoded; it appears
    /// in no output, not even when the agent refuses it.
    @Test func passwdFromStdin() throws {
        let password = "Sup3r secret:pw"
        let agent = try RecordingAgent([
            "guest-set-user-password": #"{"error": {"class": "GenericError", "desc": "child process has failed to set user password"}}"#,
        ])
        let result = try qga(["passwd", "alice", agent.socketPath], stdin: Array("\(password)\nnot this\n".utf8))
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr == "qga: GenericError: child process has failed to set user password\n")
        #expect(!result.stdoutText.contains(password) && !result.stderr.contains(password))
        #expect(agent.recorded == [[
            "execute": "guest-set-user-password",
            "arguments": ["username": "alice", "password": .string(Base64.encode(Array(password.utf8))), "crypted": false],
        ]])

        let crypted = try RecordingAgent(["guest-set-user-password": #"{"return": {}}"#])
        let hash = "$6$salt$Zm9v"
        let ok = try qga(["passwd", "root", crypted.socketPath, "--crypted"], stdin: Array(hash.utf8))
        #expect(ok.status == 0 && ok.stdout.isEmpty && ok.stderr.isEmpty, "\(ok)")
        #expect(crypted.recorded.first?["arguments"] == ["username": "root", "password": .string(Base64.encode(Array(hash.utf8))), "crypted": true])

        // Nothing on stdin: refused before the agent is reached.
        let none = try RecordingAgent([:])
        let empty = try qga(["passwd", "alice", none.socketPath], stdin: [])
        #expect(empty.status == 64 && empty.stderr.contains("no password was given"), "\(empty)")
        #expect(none.recorded.isEmpty)
    }

    /// On a terminal: asked twice with echo off (the typed password never comes back from
    /// the terminal), and the terminal's echo is back afterwards, also after a mismatch
    /// and after ^C (exit 130, nothing sent).
    @Test func passwdOnATerminal() throws {
        let password = "typed-Secret-42"
        let agent = try RecordingAgent(["guest-set-user-password": #"{"return": {}}"#])
        let typed = try PseudoTerminal.session(["passwd", "alice", agent.socketPath], answers: [
            ("New password for alice: ", password + "\n"), ("Retype it: ", password + "\n"),
        ])
        #expect(typed.status == 0, "\(typed)")
        #expect(!typed.transcript.contains(password), "\(typed.transcript)")
        #expect(typed.echoRestored)
        #expect(agent.recorded.first?["arguments"]?["password"] == .string(Base64.encode(Array(password.utf8))))

        let mismatch = try PseudoTerminal.session(["passwd", "alice", agent.socketPath], answers: [
            ("New password for alice: ", "one\n"), ("Retype it: ", "two\n"),
        ])
        #expect(mismatch.status == 64 && mismatch.transcript.contains("the two entries differ"), "\(mismatch)")
        #expect(mismatch.echoRestored)

        let interrupted = try PseudoTerminal.session(["passwd", "alice", agent.socketPath], answers: [("New password for alice: ", "half\u{03}")])
        #expect(interrupted.status == 130, "\(interrupted)")
        #expect(interrupted.echoRestored)
        #expect(agent.recorded.count == 1, "nothing sent after the first session")
    }

    @Test func fstrimTableAndMinimum() throws {
        let agent = try RecordingAgent([
            "guest-fstrim": #"{"return": {"paths": [{"path": "/", "trimmed": 1073741824}, {"path": "/boot\u001b[2J", "error": "Operation not supported"}]}}"#,
        ])
        let result = try qga(["fstrim", agent.socketPath, "--minimum", "1M"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == #"""
            PATH            TRIMMED  ERROR
            /                  1.0G
            /boot\u001b[2J           Operation not supported

            """#)
        #expect(agent.recorded == [["execute": "guest-fstrim", "arguments": ["minimum": 1_048_576]]])
        let json = try qga(["fstrim", agent.socketPath, "--json", "--compact"])
        #expect(json.stdoutText == #"{"paths":[{"path":"/","trimmed":1073741824},{"path":"/boot\u001b[2J","error":"Operation not supported"}]}"# + "\n")
        #expect(agent.recorded.last == ["execute": "guest-fstrim"])
    }

    /// An agent older than the command: the message names it, the QEMU that added it and
    /// the agent's version.
    @Test func statsOnAnAgentThatPredatesThem() throws {
        let agent = try RecordingAgent([
            "guest-get-cpustats": #"{"error": {"class": "CommandNotFound", "desc": "The command guest-get-cpustats has not been found"}}"#,
            "guest-info": #"{"return": {"version": "6.2.0", "supported_commands": [{"name": "guest-ping", "enabled": true, "success-response": true}]}}"#,
        ])
        let result = try qga(["stats", "cpu", agent.socketPath])
        #expect(result.status == 1 && result.stdout.isEmpty, "\(result)")
        #expect(result.stderr == "qga: \(agent.socketPath): the agent has no guest-get-cpustats (added in QEMU 7.1); it is version 6.2.0\n")
    }
}

/// Runs qga with a new pseudo-terminal as its controlling terminal, stdin, stdout and
/// stderr, answering each prompt as it appears.
private enum PseudoTerminal {
    struct Session: CustomStringConvertible {
        var status: Int32
        /// Everything qga wrote to the terminal, and what the terminal echoed.
        var transcript: String
        /// Whether the terminal echoes again once qga has exited.
        var echoRestored: Bool
        var description: String { "status \(status): \(transcript)" }
    }

    static func session(_ arguments: [String], answers: [(prompt: String, reply: String)]) throws -> Session {
        // posix_openpt and friends are not in Swift's Glibc module: /dev/ptmx and its ioctls.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(master >= 0)
        defer { close(master) }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        // TIOCSPTLCK and TIOCGPTN, as the generic ioctl encoding (x86, arm) makes them.
        let lockRequest: UInt = 0x4004_5431
        let numberRequest: UInt = 0x8004_5430
        #expect(ioctl(master, lockRequest, &unlock) == 0 && ioctl(master, numberRequest, &number) == 0)
        let slave = "/dev/pts/\(number)"
        let transcript = Mutex<[UInt8]>([])
        let reader = Thread {
            var pending = answers[...]
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(master, &chunk, chunk.count)
                if n <= 0 { return }  // EIO: every slave end is closed
                let text = transcript.withLock { all in
                    all += chunk[..<n]
                    return String(decoding: all, as: UTF8.self)
                }
                if let next = pending.first, text.hasSuffix(next.prompt) {
                    pending.removeFirst()
                    _ = next.reply.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
                }
            }
        }
        reader.start()
        // setsid: a new session, in which opening the terminal makes it the controlling one.
        let script = #"tty=$1; shift; exec "$@" <>"$tty" >&0 2>&0"#
        let result = try run("/usr/bin/setsid", ["-w", "/bin/sh", "-c", script, "sh", slave, try Binaries.path("qga")] + arguments)
        var attributes = termios()
        let echo = tcgetattr(master, &attributes) == 0 && attributes.c_lflag & tcflag_t(ECHO) != 0
        return Session(status: result.status, transcript: String(decoding: transcript.withLock { $0 }, as: UTF8.self), echoRestored: echo)
    }
}
