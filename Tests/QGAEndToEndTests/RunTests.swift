import Foundation
import Glibc
import QGATestSupport
import Testing

/// `qga run` against Debian's qemu-ga and qgad on unix-listen sockets (the guest is this
/// machine).
@Suite struct RunTests {
    private func qgaRun(_ arguments: [String], stdin: [UInt8]? = nil, timeout: Double = 30) throws -> ProcessResult {
        try run(try Binaries.path("qga"), ["run"] + arguments, stdin: stdin, timeout: timeout)
    }

    @Test(arguments: AgentKind.allCases) func stdoutStderrAndExitStatus(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let result = try qgaRun([agent.socketPath, "--", "/bin/sh", "-c", "printf 'out\\n'; printf 'err\\n' >&2; exit 3"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stdoutText == "out\n")
        #expect(result.stderr == "err\n")

        let success = try qgaRun([agent.socketPath, "--", "/bin/true"])
        #expect(success.status == 0, "\(success)")
        #expect(success.stdout.isEmpty && success.stderr.isEmpty)
    }

    @Test(arguments: AgentKind.allCases) func shellAndEnvironment(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let result = try qgaRun([agent.socketPath, "-e", "GREETING=hello there", "--shell", "--", "echo", "\"$GREETING\"", "|", "tr", "a-z", "A-Z"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == "HELLO THERE\n")
    }

    /// Every byte value goes in through stdin and comes back out unchanged (not a terminal).
    @Test(arguments: AgentKind.allCases) func binaryStdinAndStdout(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let bytes = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) } + (0...255).map { UInt8($0) }
        let result = try qgaRun([agent.socketPath, "--", "/bin/cat"], stdin: bytes)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == bytes)
    }

    @Test(arguments: AgentKind.allCases) func signalIs128PlusN(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let result = try qgaRun([agent.socketPath, "--shell", "--", "kill -TERM $$"])
        #expect(result.status == 128 + SIGTERM, "\(result)")
    }

    @Test(arguments: AgentKind.allCases) func timeoutWithKillEndsTheCommand(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let result = try qgaRun([agent.socketPath, "--timeout", "1", "--kill", "--", "/bin/sleep", "60"])
        #expect(result.status == 124, "\(result)")
        #expect(result.seconds < 20, "\(result)")
        let pidText = result.stderr.split(separator: "\n").first { $0.contains("it is guest process") }?.split(separator: " ").last
        let pid = pidText.flatMap { pid_t(String($0)) }
        #expect(pid != nil, "\(result)")
        #expect(result.stderr.contains("qga: killed guest process \(pid ?? 0) (SIGKILL)"), "\(result)")
        // The guest is this machine: the sleep is gone (reaped by the agent) soon after.
        if let pid {
            let deadline = Date().addingTimeInterval(10)
            while Glibc.kill(pid, 0) == 0 && Date() < deadline { usleep(20_000) }
            #expect(Glibc.kill(pid, 0) == -1 && errno == ESRCH)
        }
    }

    @Test(arguments: AgentKind.allCases) func timeoutWithoutKillNamesThePid(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        // The shell exits at once; its background child keeps stdout open for 3 s.
        let result = try qgaRun([agent.socketPath, "--timeout", "0.5", "--shell", "--", "sleep 3 & exit 0"])
        #expect(result.status == 124, "\(result)")
        #expect(result.stderr.contains("did not exit within --timeout 0.5 s; it is guest process "), "\(result)")
        #expect(result.stderr.contains("until its stdout and stderr are closed"), "\(result)")
        #expect(result.stderr.contains("end it with --kill"), "\(result)")
    }

    /// Both agents keep 16 MiB of each stream; qga says the rest was cut.
    @Test(arguments: AgentKind.allCases) func outputOverTheAgentsCap(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let result = try qgaRun([agent.socketPath, "--shell", "--", "head -c 17000000 /dev/zero"], timeout: 60)
        #expect(result.status == 0, "\(result.status) \(result.stderr)")
        #expect(result.stdout.count == 16 << 20)
        #expect(result.stderr == "qga: the agent cut the command's stdout short (it keeps at most 16 MiB)\n")
    }

    @Test func stdinOverTheRequestLimitRunsNothing() throws {
        let agent = try AgentProcess(.qgad)
        let marker = agent.directory.path + "/ran"
        // Fed by a shell pipeline, so that qga leaving early cannot SIGPIPE the test process.
        let qga = try Binaries.path("qga")
        let result = try run(
            "/bin/sh", ["-c", "head -c \(49 << 20) /dev/zero | \"$0\" run \"$1\" -- /usr/bin/touch \"$2\"", qga, agent.socketPath, marker],
            timeout: 60)
        #expect(result.status == 255, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("stdin holds more than"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func ownFailuresExit255() throws {
        let missing = try qgaRun(["/nonexistent/agent.sock", "--", "/bin/true"])
        #expect(missing.status == 255, "\(missing)")
        #expect(missing.stderr.hasPrefix("qga: "))

        let agent = try AgentProcess(.qemuGA, ["-b", "guest-exec"])
        let disabled = try qgaRun([agent.socketPath, "--", "/bin/true"])
        #expect(disabled.status == 255, "\(disabled)")
        #expect(disabled.stderr.hasPrefix("qga: CommandNotFound: "), "\(disabled)")
    }

    @Test func usageErrors() throws {
        let noCommand = try qgaRun(["/nonexistent/agent.sock"])
        #expect(noCommand.status == 64, "\(noCommand)")
        let killAlone = try qgaRun(["/nonexistent/agent.sock", "--kill", "--", "/bin/true"])
        #expect(killAlone.status == 64, "\(killAlone)")
        #expect(killAlone.stderr.contains("--kill needs --timeout"))
    }
}
