import QGAProtocol
import Testing

/// Feeds `bytes` split into pieces of `size` and returns every event.
private func frame(_ bytes: [UInt8], pieces size: Int, framer: Framer = Framer()) -> [Framer.Event] {
    var framer = framer
    var events: [Framer.Event] = []
    var i = 0
    while i < bytes.count {
        events += framer.feed(Array(bytes[i..<min(i + size, bytes.count)]))
        i += size
    }
    return events
}

private func messages(_ events: [Framer.Event]) -> [String] {
    events.compactMap { if case .message(let m) = $0 { String(decoding: m, as: UTF8.self) } else { nil } }
}

@Suite struct FramerTests {
    let stream = Array(#"{"return": {"a": "}{\"]"}} {"return": [1, {"b": "\\"}]}{"error": {"class": "X", "desc": "y"}}"#.utf8)

    @Test(arguments: [1, 2, 3, 7, 64, 4096])
    func splitsMessagesAtAnyReadSize(size: Int) {
        let got = messages(frame(stream, pieces: size))
        #expect(got == [
            #"{"return": {"a": "}{\"]"}}"#,
            #"{"return": [1, {"b": "\\"}]}"#,
            #"{"error": {"class": "X", "desc": "y"}}"#,
        ])
    }

    @Test func needsNoNewline() {
        var framer = Framer()
        #expect(framer.feed(Array(#"{"a":1}{"b""#.utf8)) == [.message(Array(#"{"a":1}"#.utf8))])
        #expect(framer.isInsideMessage)
        #expect(framer.feed(Array(":2}".utf8)) == [.message(Array(#"{"b":2}"#.utf8))])
    }

    @Test func delimiterResetsAPartialMessage() {
        let bytes: [UInt8] = Array(#"{"half": "mess"#.utf8) + [0xFF] + Array(#"{"return": 7}"#.utf8)
        for size in [1, 5, bytes.count] {
            let events = frame(bytes, pieces: size)
            #expect(events == [.delimiter, .message(Array(#"{"return": 7}"#.utf8))])
        }
    }

    @Test func delimiterInsideAStringStillResets() {
        let bytes: [UInt8] = Array(#"{"s": "ab"#.utf8) + [0xFF] + Array("{}".utf8)
        #expect(frame(bytes, pieces: 1) == [.delimiter, .message(Array("{}".utf8))])
    }

    @Test func junkOutsideMessagesIsReported() {
        let events = frame(Array("garbage {}".utf8), pieces: 100)
        #expect(events == [.junk(prefix: Array("garbage".utf8), count: 7), .message(Array("{}".utf8))])
    }

    @Test func oversizeMessageIsRefusedAndSkippedWithBoundedMemory() {
        let big = Array(#"{"return": ""#.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 10_000) + Array(#""}{"ok":1}"#.utf8)
        let events = frame(big, pieces: 512, framer: Framer(maxMessageSize: 1000))
        #expect(events.count == 2)
        if case .error(let error) = events[0] { #expect(error.code == .messageTooLarge) } else { Issue.record("no error") }
        #expect(events[1] == .message(Array(#"{"ok":1}"#.utf8)))
    }

    @Test func deepNestingIsRefusedWithoutStoringIt() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 200_000) + [UInt8](repeating: UInt8(ascii: "]"), count: 200_000)
        let events = frame(deep + Array("{}".utf8), pieces: 4096)
        #expect(events.count == 2)
        if case .error(let error) = events[0] { #expect(error.code == .nestingTooDeep) } else { Issue.record("no error") }
        #expect(events[1] == .message(Array("{}".utf8)))
    }

    @Test func depthAtTheLimitPasses() {
        let ok = [UInt8](repeating: UInt8(ascii: "["), count: 1024) + [UInt8](repeating: UInt8(ascii: "]"), count: 1024)
        #expect(messages(frame(ok, pieces: 100)).count == 1)
    }
}
