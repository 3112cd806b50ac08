import Foundation
import QGAProtocol
import QGATestSupport
import Testing

/// What a hostile request can make qgad allocate.
@Suite struct AgentMemoryTests {
    /// qgad's peak resident set so far (VmHWM), in KiB.
    func peakRSS(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    @Test func amplifyingRequestIsRefusedWithBoundedMemory() throws {
        // 24 MiB of [0], once drove qgad to about 600 MiB (60 MiB to 1.4 GiB): every [0]
        // became an array. QEMU's 2 Mi-token limit refuses it about 8 MiB in.
        let agent = try AgentProcess(.qgad)
        let client = try agent.connect()
        client.send(#"{"execute":"guest-ping","arguments":{"a":["#)
        let block = Array(repeating: Array("[0],".utf8), count: 1 << 16).flatMap { $0 }
        for _ in 0..<96 { client.send(block) }
        client.send(#"[0]]}}"#)
        #expect(client.reply(timeout: 60)?.value?["error"]?["desc"] == "JSON token count limit exceeded")
        #expect(client.call(#"{"execute":"guest-ping","id":1}"#, timeout: 30)?["id"] == 1)
        let peak = try #require(peakRSS(agent.pid))
        #expect(peak < 64 * 1024, "peak RSS \(peak) KiB")
    }
}
