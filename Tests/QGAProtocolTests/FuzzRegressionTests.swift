import QGAProtocol
import Testing

/// Inputs the libFuzzer targets (Fuzz/, scripts/fuzz) found, each kept as a test.
@Suite struct ProtocolFuzzRegressionTests {
    /// FuzzProtocol: a message that broke the size limit and then, later in the same read,
    /// the token limit was reported as too many tokens when read at once and as too large
    /// when read in pieces: qgad's error reply depended on how the bytes arrived. The limit
    /// broken first in the bytes now wins, however they are split.
    @Test(arguments: [1, 5, 16, 17, 4096])
    func theFirstLimitBrokenIsReportedAtAnyReadSize(size: Int) {
        let input = Array(#"{"aaaaaaaaaaaaaaaaaaaaaaaa": 1, "b": 2, "c": 3, "d": 4} {"ok": 1}"#.utf8)
        var framer = Framer(maxMessageSize: 16, maxDepth: 16, maxTokens: 8)
        var events: [Framer.Event] = []
        var i = 0
        while i < input.count {
            events += framer.feed(Array(input[i..<min(i + size, input.count)]))
            i += size
        }
        #expect(events == [
            .error(ProtocolError(.messageTooLarge, "message larger than 16 bytes")),
            .message(Array(#"{"ok": 1}"#.utf8)),
        ])
    }

    /// The size check near the largest limits does not overflow.
    @Test func aHugeLimitDoesNotOverflow() {
        var framer = Framer(maxMessageSize: Int.max)
        #expect(framer.feed(Array(#"{"a": [1, 2]}"#.utf8)) == [.message(Array(#"{"a": [1, 2]}"#.utf8))])
    }
}
