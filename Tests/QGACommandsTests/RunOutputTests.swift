import Testing

@testable import QGACommands

/// How `qga run` shows a guest command's output on a terminal.
@Suite struct RunOutputTests {
    @Test func terminalOutputKeepsLineBreaksAndEscapesTheRest() {
        let escaped = String(decoding: Run.terminalSafe(Array("a\u{1B}[2J\nb\r\n\u{202E}x".utf8)), as: UTF8.self)
        #expect(escaped == "a\\u001b[2J\nb\\r\n\\u202ex")
    }

    @Test func inputLimitsLeaveRoomForTheRequest() {
        #expect(Run.inputLimit(throughLibvirt: true) == ((4 << 20) - (64 << 10)) / 4 * 3)
        #expect(Run.inputLimit(throughLibvirt: false) > 47 << 20)
        #expect(Run.inputLimit(throughLibvirt: false) < 48 << 20)
    }
}
