import Foundation
import QGAProtocol
import QGATestSupport
import Testing

/// What `qga` prints of a hostile guest's replies: bounded in size and memory, and unable to
/// act on the terminal or to forge lines on stdout or stderr.
@Suite struct HostileOutputTests {
    static func replying(_ text: String) -> @Sendable (FakeConnection) throws -> Void {
        MisbehavingAgentTests.replying(Array(text.utf8))
    }

    /// A value nested `depth` arrays deep, as compact text.
    static func nestedArrays(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + "0" + String(repeating: "]", count: depth)
    }

    @Test func deeplyNestedReplyPrintsInBoundedMemoryAndSize() throws {
        // About 1 MiB of arrays 1022 deep (1023 with the reply object, the parser's limit
        // being 1024). Printed with two spaces per level this was 1 GB at 1.15 GB of RSS.
        let one = Self.nestedArrays(1021)
        let copies = (1 << 20) / (one.utf8.count + 1)
        let value = "[" + Array(repeating: one, count: copies).joined(separator: ",") + "]"
        let agent = try FakeAgent(Self.replying(#"{"return": "# + value + "}\n"))
        // Through `wc -c`, so that the test holds a count rather than the output; pipefail
        // keeps qga's exit status, and GNU time reports the largest RSS of the pipeline.
        let qga = try Binaries.path("qga")
        let (result, peakKiB) = try runMeasuringPeakRSS(
            "/bin/bash", ["-c", #"set -o pipefail; "$0" "$@" | wc -c"#, qga, "exec", agent.socketPath, "guest-file-read", "handle:=1"],
            timeout: 120)
        #expect(result.status == 0, "\(result)")
        let printed = try #require(Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(printed > value.utf8.count)
        #expect(printed < 10 * value.utf8.count, "printed \(printed) bytes of a \(value.utf8.count)-byte reply")
        #expect(peakKiB < 128 * 1024, "peak RSS \(peakKiB) KiB")
    }

    @Test func deeplyNestedReplyStaysValidJSON() throws {
        let agent = try FakeAgent(Self.replying(#"{"return": {"a": "# + Self.nestedArrays(200) + "}}\n"))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-info"])
        #expect(result.status == 0, "\(result)")
        #expect(try JSONParser.parse(result.stdout) == JSONParser.parse(#"{"a": "# + Self.nestedArrays(200) + "}"))
        #expect(result.stdout.count < 3000)
    }
}
