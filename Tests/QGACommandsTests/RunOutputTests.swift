import Testing

@testable import QGACommands

/// How `qga run` shows a guest command's output on a terminal.
@Suite struct RunOutputTests {
    @Test func terminalOutputKeepsLineBreaksAndEscapesTheRest() {
        let escaped = String(decoding: Run.terminalSafe(Array("a\u{1B}[2J\nb\r\n\u{202E}x".utf8)), as: UTF8.self)
        #expect(escaped == "a\\u001b[2J\nb\\r\n\\u202ex")
    }

    @Test func inputLimitsLeaveRoomForTheRequest() {
        // Through libvirt a request must stay within the 192 KiB it delivers intact.
        #expect(Run.inputLimit(throughLibvirt: true) == 96 << 10)
        #expect(Run.inputLimit(throughLibvirt: false) > 47 << 20)
        #expect(Run.inputLimit(throughLibvirt: false) < 48 << 20)
    }
}
