import Foundation
import QGAProtocol
import QGATestSupport
import Testing

/// freeze-run against a scripted agent, for the failures a real guest will not produce on
/// demand. (The real guest runs in QGAVMTests.)
@Suite struct FreezeRunTests {
    /// An agent that syncs, then answers each request with `answer(command, connection number)`;
    /// nil means stay silent. It records the commands it got.
    final class Script: @unchecked Sendable {
        let received = Mutex<[String]>([])
        let connections = Mutex(0)
        let answer: @Sendable (String, Int) -> String?
        init(_ answer: @escaping @Sendable (String, Int) -> String?) { self.answer = answer }

        func agent() throws -> FakeAgent {
            try FakeAgent { [self] connection in
                let number = connections.withLock { n in
                    n += 1
                    return n
                }
                while connection.answerSync() != nil {
                    guard let request = connection.nextRequest(), let name = request["execute"]?.string else { return }
                    received.withLock { $0.append(name) }
                    guard let reply = answer(name, number) else {
                        connection.stall(10)
                        return
                    }
                    connection.send(reply + "\n")
                }
            }
        }
    }

    @Test func reportsWhatItFrozeAndExitsWithTheCommandsStatus() throws {
        let script = Script { name, _ in name == "guest-fsfreeze-freeze" ? #"{"return": 2}"# : #"{"return": 2}"# }
        let agent = try script.agent()
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--", "/bin/sh", "-c", "exit 7"])
        #expect(result.status == 7, "\(result)")
        #expect(result.stderr.contains("froze 2 filesystems"))
        #expect(result.stderr.contains("thawed 2 filesystems; the guest was frozen for"))
        #expect(script.received.withLock { $0 } == ["guest-fsfreeze-freeze", "guest-fsfreeze-thaw"])
    }

    @Test func aFreezeThatTimesOutIsFollowedByAThawAndNothingRuns() throws {
        // The first connection never answers the freeze; later ones answer the thaw.
        let script = Script { name, connection in connection == 1 ? nil : (name == "guest-fsfreeze-thaw" ? #"{"return": 1}"# : nil) }
        let agent = try script.agent()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let marker = dir.path + "/ran"
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--timeout", "1", "--", "/bin/touch", marker])
        #expect(result.status == 3, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the host command ran although the freeze failed")
        #expect(script.received.withLock { $0 }.contains("guest-fsfreeze-thaw"))
    }

    @Test func aFreezeRefusedByTheAgentIsNotThawed() throws {
        // Someone else's freeze: the agent refuses ours, and qga must not thaw theirs.
        let script = Script { _, _ in #"{"error": {"class": "GenericError", "desc": "the agent is already in frozen state"}}"# }
        let agent = try script.agent()
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--", "/bin/true"])
        #expect(result.status == 1, "\(result)")
        #expect(script.received.withLock { $0 } == ["guest-fsfreeze-freeze"])
    }

    @Test func aFailedThawIsLoudAndExitsSix() throws {
        let script = Script { name, _ in
            name == "guest-fsfreeze-freeze" ? #"{"return": 1}"# : #"{"error": {"class": "GenericError", "desc": "nope"}}"#
        }
        let agent = try script.agent()
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--", "/bin/true"])
        #expect(result.status == 6, "\(result)")
        #expect(result.stderr.contains("qga: THAW FAILED: GenericError: nope\n"))
        #expect(result.stderr.contains("\nqga: the guest \(agent.socketPath) may still be frozen"))
        // Three attempts, each on a fresh connection after the first.
        #expect(script.received.withLock { $0 }.filter { $0 == "guest-fsfreeze-thaw" }.count == 3)
    }
}
