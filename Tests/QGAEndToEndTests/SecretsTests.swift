import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// Passwords and file contents stay out of everything that others can read or that lasts:
/// `qga passwd` keeps the password out of its argv and environment (it reads it from the
/// terminal or stdin) and out of its messages; qgad, at its highest verbosity (`-v`), logs
/// neither passwords nor file or guest-exec contents, to its log file or to stderr, and
/// hands chpasswd the password on a pipe, never in its argv or environment.
@Suite struct SecretsTests {
    static let password = "pw-MARKER-7Hq2x"
    static let hash = "$6$saltMARKER$hashMARKER9Zk4"
    static let fileText = "file-MARKER-contents-3Vx8\n"
    static let inputText = "stdin-MARKER-for-guest-exec-5Wn1"

    /// Each secret as text and in every base64 form it travels in (whole, at each of the
    /// three alignments it could have inside a longer base64 stream).
    static var needles: [String] {
        [password, hash, fileText.trimmingCharacters(in: .newlines), inputText].flatMap { secret -> [String] in
            let bytes = Array(secret.utf8)
            var forms = [secret, Base64.encode(bytes)]
            for skip in 0..<3 {
                // The characters that depend only on the secret's bytes, whatever precedes it.
                let encoded = Base64.encode([UInt8](repeating: 0, count: skip) + bytes)
                let start = (skip * 4 + 2) / 3
                forms.append(String(encoded.dropFirst(start).prefix(((bytes.count - 2) / 3) * 4)))
            }
            return forms.filter { $0.count >= 8 }
        }
    }

    /// The needles found in `text`, with `place` for the message.
    static func leaks(in text: String, _ place: String) -> [String] {
        needles.filter { text.contains($0) }.map { "\(place) holds \($0)" }
    }

    static func leaks(in bytes: [UInt8], _ place: String) -> [String] {
        leaks(in: String(decoding: bytes.map { $0 == 0 ? 0x0A : $0 }, as: UTF8.self), place)
    }

    static func contents(_ path: String) -> [UInt8] {
        CopyTests.contents(path) ?? []
    }

    /// A chpasswd stand-in on qgad's PATH: it records its argv and environment (from /proc,
    /// as anyone on the guest could read them while it runs) and what came on stdin, then
    /// complains on stderr quoting its input, as a chatty helper might, and fails for any
    /// user but alice.
    static func fakeChpasswd(in directory: TemporaryDirectory) throws -> (bin: String, captures: String) {
        let bin = directory.path + "/bin"
        let captures = directory.path + "/captures"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: captures, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            cat /proc/$$/cmdline > '\(captures)/argv.'$$
            cat /proc/$$/environ > '\(captures)/environ.'$$
            IFS= read -r line
            printf '%s\\n' "$line" > '\(captures)/stdin.'$$
            echo "chpasswd: cannot handle line: $line" >&2
            [ "${line%%:*}" = alice ]

            """
        try script.write(toFile: bin + "/chpasswd", atomically: false, encoding: .utf8)
        chmod(bin + "/chpasswd", 0o755)
        return (bin, captures)
    }

    /// qgad with `-v`, logging to stderr or to a file with `-l`; what `qga passwd`, `cp`,
    /// `cat` and `run` do against it; and every place a secret could end up, searched.
    @Test(arguments: [false, true])
    func qgadKeepsSecretsOutOfLogsArgvAndEnvironment(_ logToFile: Bool) throws {
        let work = try TemporaryDirectory("qga-secrets")
        defer { work.remove() }
        let (bin, captures) = try Self.fakeChpasswd(in: work)
        let logFile = work.path + "/qgad.log"
        let agent = try AgentProcess(
            .qgad, ["-v"] + (logToFile ? ["-l", logFile] : []),
            environment: ["PATH": bin + ":/usr/sbin:/usr/bin:/sbin:/bin"])
        var leaks: [String] = []
        var stderrs: [(String, String)] = []
        func qga(_ arguments: [String], stdin: [UInt8]? = nil) throws -> ProcessResult {
            let result = try run(try Binaries.path("qga"), arguments, stdin: stdin)
            stderrs.append((arguments.prefix(2).joined(separator: " "), result.stderr))
            return result
        }

        // The password: set, refused for a user the guest does not have, and as a hash.
        let set = try qga(["passwd", "alice", agent.socketPath], stdin: Array((Self.password + "\n").utf8))
        #expect(set.status == 0, "\(set)")
        let refused = try qga(["passwd", "nobody-here", agent.socketPath], stdin: Array((Self.password + "\n").utf8))
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr == "qga: GenericError: child process has failed to set user password\n", "\(refused)")
        let crypted = try qga(["passwd", "alice", agent.socketPath, "--crypted"], stdin: Array(Self.hash.utf8))
        #expect(crypted.status == 0, "\(crypted)")
        leaks += Self.leaks(in: set.stdoutText + refused.stdoutText + crypted.stdoutText, "qga passwd's stdout")

        // The helper got each password on stdin (so the searches below looked where it went).
        let captured = try FileManager.default.contentsOfDirectory(atPath: captures)
        let stdins = captured.filter { $0.hasPrefix("stdin.") }.map { String(decoding: Self.contents(captures + "/" + $0), as: UTF8.self) }
        #expect(Set(stdins) == ["alice:\(Self.password)\n", "nobody-here:\(Self.password)\n", "alice:\(Self.hash)\n"], "\(stdins)")
        for name in captured where name.hasPrefix("argv.") || name.hasPrefix("environ.") {
            leaks += Self.leaks(in: Self.contents(captures + "/" + name), "chpasswd's /proc \(name)")
        }
        let argvs = captured.filter { $0.hasPrefix("argv.") }.map { String(decoding: Self.contents(captures + "/" + $0), as: UTF8.self) }
        #expect(argvs.count == 3 && argvs.allSatisfy { $0.hasPrefix("/bin/sh\0") || $0.hasPrefix("sh\0") }, "\(argvs)")

        // A file's contents, both ways.
        let hostFile = work.path + "/file.txt"
        try Self.fileText.write(toFile: hostFile, atomically: false, encoding: .utf8)
        let guestFile = work.path + "/in-guest.txt"
        let up = try qga(["cp", hostFile, agent.socketPath + ":" + guestFile])
        #expect(up.status == 0, "\(up)")
        let down = try qga(["cat", agent.socketPath + ":" + guestFile])
        #expect(down.status == 0 && down.stdoutText == Self.fileText, "\(down)")
        let missing = try qga(["cat", agent.socketPath + ":" + work.path + "/no-such-file"])
        #expect(missing.status == 1, "\(missing)")

        // guest-exec's input: it reaches the command on its stdin and nowhere else, not in
        // the command's argv or environment either.
        let exec = try qga(
            ["run", agent.socketPath, "--", "/bin/sh", "-c", #"cat; tr '\0' '\n' < /proc/$$/environ; tr '\0' ' ' < /proc/$$/cmdline"#],
            stdin: Array(Self.inputText.utf8))
        #expect(exec.status == 0, "\(exec)")
        #expect(exec.stdoutText.hasPrefix(Self.inputText), "\(exec)")
        leaks += Self.leaks(in: String(exec.stdoutText.dropFirst(Self.inputText.count)), "the guest command's argv and environment")

        // A malformed request that holds a password in clear: the agent's error quotes it
        // back to the client that sent it, as qemu-ga's does, but the log must not.
        do {
            // Its own scope: qgad serves one client at a time, and this one leaves at its end.
            let client = try agent.connect()
            let reply = client.call(
                #"{"execute": "guest-set-user-password", "arguments": {"username": "alice", "password": "\#(Self.password)"# + "\u{01}\"}}\n")
            #expect(reply?["error"]?["desc"]?.string?.hasPrefix("JSON parse error") == true, "\(String(describing: reply))")
        }

        // Everything qgad wrote, and its own argv and environment.
        #expect(try Binaries.qga(["ping", agent.socketPath]).status == 0)
        let logPath = agent.directory.path + "/agent.log"
        var log: [UInt8] = []
        #expect(poll(seconds: 10) {
            log = Self.contents(logToFile ? logFile : logPath)
            return String(decoding: log, as: UTF8.self).contains("debug: running guest-ping")
        }, "qgad's log: \(String(decoding: log, as: UTF8.self))")
        // Verbose indeed: the log names the commands it ran, and the failures.
        let logText = String(decoding: log, as: UTF8.self)
        #expect(logText.contains("debug: running guest-set-user-password"), "\(logText)")
        #expect(logText.contains("debug: running guest-file-write"), "\(logText)")
        #expect(logText.contains("debug: error: JSON parse error"), "\(logText)")
        leaks += Self.leaks(in: log, logToFile ? "qgad's log file" : "qgad's stderr log")
        leaks += Self.leaks(in: Self.contents(logPath), "qgad's stderr")
        leaks += Self.leaks(in: Self.contents("/proc/\(agent.pid)/cmdline"), "qgad's argv")
        leaks += Self.leaks(in: Self.contents("/proc/\(agent.pid)/environ"), "qgad's environment")
        for (command, stderr) in stderrs { leaks += Self.leaks(in: stderr, "qga \(command)'s stderr") }
        #expect(leaks.isEmpty, "\(leaks)")
    }

    /// While `qga passwd` holds the password (typed on its terminal, the request sent, the
    /// reply not yet in), its argv and environment do not hold it, and neither does
    /// anything it printed; and the refusal of a user the agent does not know is as clean.
    @Test func qgaPasswdHoldsThePasswordInMemoryOnly() throws {
        let received = Mutex<JSONValue?>(nil)
        let release = DispatchSemaphore(value: 0)
        let agent = try FakeAgent { connection in
            connection.answerSync()
            guard let request = connection.nextRequest() else { return }
            received.withLock { $0 = request }
            _ = release.wait(timeout: .now() + 30)
            connection.send(#"{"error": {"class": "GenericError", "desc": "child process has failed to set user password"}}"# + "\n")
        }
        defer { release.signal() }
        let qga = try BackgroundProcess(try Binaries.path("qga"), ["passwd", "nobody-here", agent.socketPath], mode: .terminal)
        #expect(poll(seconds: 20) { qga.stderrSoFar.contains("New password for nobody-here: ") }, "\(qga.stderrSoFar)")
        qga.type(Self.password + "\n")
        #expect(poll(seconds: 20) { qga.stderrSoFar.contains("Retype it: ") }, "\(qga.stderrSoFar)")
        qga.type(Self.password + "\n")
        #expect(poll(seconds: 20) { received.withLock { $0 } != nil }, "the request never came")
        var leaks = Self.leaks(in: Self.contents("/proc/\(qga.pid)/cmdline"), "qga's argv")
        leaks += Self.leaks(in: Self.contents("/proc/\(qga.pid)/environ"), "qga's environment")
        #expect(!Self.contents("/proc/\(qga.pid)/cmdline").isEmpty, "qga is still running")
        release.signal()
        let result = qga.finish(timeout: 20)
        #expect(result.status == 1, "\(result)")
        let transcript = qga.stderrSoFar
        #expect(transcript.contains("qga: GenericError: child process has failed to set user password"), "\(transcript)")
        leaks += Self.leaks(in: transcript, "qga's terminal")
        #expect(leaks.isEmpty, "\(leaks)")
        #expect(received.withLock { $0 }?["arguments"]?["password"]?.string == Base64.encode(Array(Self.password.utf8)))
    }
}
