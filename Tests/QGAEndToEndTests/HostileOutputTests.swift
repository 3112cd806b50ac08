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

    /// A reply whose strings hold a line break, a carriage return, an escape sequence and
    /// the bidi controls, raw (as UTF-8) where JSON allows it, escaped where it must be.
    static let hostileText = #""ok\nqga: forged\r\u001b[2J \u202e\u2066\u200f\u061c \#u{202E}\#u{2066}\#u{200F}\#u{061C} end""#

    static func hasUnsafe(_ text: String) -> Bool { text.unicodeScalars.contains(where: JSONPrinter.isUnsafe) }

    @Test func prettyAndCompactEscapeEverythingUnsafe() throws {
        let agent = try FakeAgent(Self.replying(#"{"return": {"# + Self.hostileText + ": " + Self.hostileText + "}}\n"))
        for layout in [[String](), ["--compact"], ["--color", "always"]] {
            let result = try Binaries.qga(["exec", agent.socketPath, "guest-info"] + layout)
            #expect(result.status == 0, "\(result)")
            // One line of output for --compact, the value's own lines otherwise, and not one
            // of them from the guest.
            let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == (layout == ["--compact"] ? 2 : 4), "\(layout): \(result.stdoutText)")
            #expect(!result.stdout.contains(0x0D))
            let palette = JSONPrinter.Palette()
            let withoutColour = [palette.key, palette.string, palette.number, palette.literal, palette.null, palette.reset]
                .reduce(result.stdoutText) { $0.replacingOccurrences(of: $1, with: "") }
            #expect(!Self.hasUnsafe(withoutColour.replacingOccurrences(of: "\n", with: "")), "\(layout)")
            #expect(withoutColour.contains(#"ok\nqga: forged\r\u001b[2J \u202e\u2066\u200f\u061c \u202e\u2066\u200f\u061c end"#))
        }
    }

    @Test func errorDescAndClassCannotForgeLinesOnStderr() throws {
        let reply = #"{"error": {"class": "Generic\nqga: \u202eError", "desc": "bad\nqga: all is well\r\#u{202E} \u2069x"}}"#
        let agent = try FakeAgent(Self.replying(reply + "\n"))
        for extra in [[String](), ["--raw"]] {
            let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"] + extra)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr == #"qga: Generic\nqga: \u202eError: bad\nqga: all is well\r\u202e \u2069x"# + "\n", "\(extra)")
        }
    }

    @Test func rawIsExactIntoAPipe() throws {
        // Scripts get the bytes as sent, whitespace and unescaped characters included.
        let reply = "{\"return\":\r\n {\"s\": \"\u{202E}x\\u001b\"}}"
        let agent = try FakeAgent(Self.replying(reply + "\n"))
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-info", "--raw"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == Array(reply.utf8) + [0x0A])
    }

    @Test func rawOnATerminalIsEscaped() throws {
        // A carriage return and a line break between tokens (JSON whitespace), and a raw
        // U+202E inside a string.
        let reply = "{\"return\":\r{\"a\": \"qga: forged\",\n\"s\": \"\u{202E}x\u{2066}\"}}"
        let agent = try FakeAgent(Self.replying(reply + "\n"))
        let terminal = try OutputTests().onTerminal(["exec", agent.socketPath, "guest-info", "--raw"])
        #expect(terminal.status == 0, "\(terminal)")
        // The terminal turns qga's own final newline into CR LF; nothing else may be a CR
        // or a line break.
        #expect(terminal.stdout.suffix(2) == [0x0D, 0x0A])
        let body = terminal.stdout.dropLast(2)
        #expect(!body.contains(0x0D) && !body.contains(0x0A), "\(terminal)")
        #expect(!Self.hasUnsafe(String(decoding: body, as: UTF8.self)))
        #expect(String(decoding: body, as: UTF8.self) == #"{"return":\r{"a": "qga: forged",\n"s": "\u202ex\u2066"}}"#)
    }

    @Test func fsfreezeStatusCannotForgeALine() throws {
        let agent = try FakeAgent(Self.replying(#"{"return": "thawed\nqga: frozen \u202e"}"# + "\n"))
        let result = try Binaries.qga(["fsfreeze", "status", agent.socketPath])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == #"thawed\nqga: frozen \u202e"# + "\n")
    }
}
