import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// `qga wait` and `reboot --wait` on sockets: an agent that appears after the wait began,
/// the deadline (exit 2 when nothing was ever there, 3 when nothing answered), and an
/// error reply, which is not waited out.
@Suite struct WaitTests {
    /// The wait starts on a path whose agent is not there yet (first a socket that drops every
    /// connection, which must be tried again); then the real agent starts and the path is
    /// pointed at it. A symlink lets the agent keep its own directory.
    @Test(arguments: [AgentKind.qemuGA, .qgad])
    func returnsOnceAnAgentStartsLater(_ kind: AgentKind) throws {
        let directory = try TemporaryDirectory("qga-wait")
        defer { directory.remove() }
        let path = directory.path + "/agent.sock"
        let attempts = Mutex(0)
        let dropping = try FakeAgent { _ in attempts.withLock { $0 += 1 } }
        #expect(symlink(dropping.socketPath, path) == 0)

        let wait = try BackgroundProcess(try Binaries.path("qga"), ["wait", path, "--timeout", "60"], mode: .processGroup)
        #expect(poll(seconds: 30) { attempts.withLock { $0 } >= 3 }, "qga wait tries again while nothing answers")
        let agent = try AgentProcess(kind)
        #expect(wait.state != nil, "still waiting when the agent starts")
        // Atomically: the path now leads to the real agent.
        #expect(symlink(agent.socketPath, path + ".new") == 0)
        #expect(rename(path + ".new", path) == 0)

        let result = wait.finish(timeout: 30)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
    }

    @Test func aSocketThatNeverAppearsExitsTwoAtTheDeadline() throws {
        let directory = try TemporaryDirectory("qga-wait")
        defer { directory.remove() }
        let result = try Binaries.qga(["wait", directory.path + "/agent.sock", "--timeout", "0.5"], timeout: 30)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("no agent socket here"), "\(result)")
        #expect(result.stderr.contains("waited 0.5 s"), "\(result)")
        #expect(result.seconds >= 0.5 && result.seconds < 5, "\(result)")
    }

    /// The sync alone would wait 5 s (--sync-timeout); the wait's deadline cuts it short.
    @Test func aSilentAgentExitsThreePromptlyAtTheDeadline() throws {
        let agent = try FakeAgent { connection in connection.stall(30) }
        let result = try Binaries.qga(["wait", agent.socketPath, "--timeout", "1"], timeout: 30)
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("did not answer guest-sync"), "\(result)")
        #expect(result.stderr.contains("waited 1 s"), "\(result)")
        #expect(result.seconds >= 1 && result.seconds < 4, "\(result)")
    }

    @Test func anErrorReplyIsNotWaitedOut() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(#"{"error": {"class": "CommandNotFound", "desc": "Command guest-ping has been disabled"}}"# + "\n")
            connection.stall(5)
        }
        let result = try Binaries.qga(["wait", agent.socketPath, "--timeout", "60"], timeout: 30)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("guest-ping has been disabled"), "\(result)")
        #expect(result.seconds < 10, "\(result)")
    }

    /// reboot --wait on a socket: the request, then the agent goes away (connections
    /// dropped), then it answers again.
    @Test func rebootWaitSeesTheAgentGoAndComeBack() throws {
        let connections = Mutex(0)
        let shutdowns = Mutex<[JSONValue]>([])
        let agent = try FakeAgent { connection in
            let number = connections.withLock { $0 += 1; return $0 }
            switch number {
            case 1:
                // The reboot request: guest-shutdown replies only on error.
                connection.answerSync()
                if let request = connection.nextRequest() { shutdowns.withLock { $0.append(request) } }
                connection.stall(10)
            case 2...4:
                return  // the guest is rebooting: nobody there
            default:
                connection.answerSync()
                _ = connection.nextRequest()
                connection.send(#"{"return": {}}"# + "\n")
                connection.stall(5)
            }
        }
        let result = try Binaries.qga(["reboot", agent.socketPath, "--wait", "60", "--timeout", "1"], timeout: 90)
        #expect(result.status == 0, "\(result)")
        #expect(shutdowns.withLock { $0.first?["arguments"]?["mode"] } == "reboot")
        #expect(connections.withLock { $0 } >= 5)
    }
}
