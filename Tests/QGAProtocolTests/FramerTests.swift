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
        // One piece too: a string's bytes are skipped in a run, which stops at a reset byte.
        for size in [1, 3, bytes.count] {
            #expect(frame(bytes, pieces: size) == [.delimiter, .message(Array("{}".utf8))])
        }
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

/// QEMU's lexer beyond RFC 8259 (single quotes, 0xFE) and its streamer's token limit.
@Suite struct FramerQEMUTests {
    @Test(arguments: [1, 2, 5, 4096])
    func singleQuotedStringsHideBrackets(size: Int) {
        let stream = Array(#"{'a': '}{"]', 'b\'': 1}{"c": "it's"}"#.utf8)
        #expect(messages(frame(stream, pieces: size)) == [#"{'a': '}{"]', 'b\'': 1}"#, #"{"c": "it's"}"#])
    }

    @Test func byteFEResetsAPartialMessageWithoutADelimiter() {
        let bytes: [UInt8] = Array(#"{"half": "mess"#.utf8) + [0xFE] + Array(#"{"return": 7}"#.utf8)
        for size in [1, 5, bytes.count] {
            #expect(frame(bytes, pieces: size) == [.message(Array(#"{"return": 7}"#.utf8))])
        }
        let outside: [UInt8] = Array("{}".utf8) + [0xFE] + Array("[]".utf8)
        #expect(frame(outside, pieces: 1) == [.message(Array("{}".utf8)), .message(Array("[]".utf8))])
    }

    /// `[[], 0, 0, …]` with exactly `count` tokens (count even, at least 4).
    static func tokens(_ count: Int) -> [UInt8] {
        Array("[[]".utf8) + Array(repeating: Array(",0".utf8), count: (count - 4) / 2).flatMap { $0 } + [UInt8(ascii: "]")]
    }

    @Test func tokensAreCountedAsQEMUCountsThem() {
        // { "a" : [ 12 , true , 'x' ] } is 11 tokens; whitespace is none.
        let text = Array(#"{"a" : [12, true , 'x']}"#.utf8)
        #expect(frame(text, pieces: 1, framer: Framer(maxTokens: 11)) == [.message(text)])
        let refused = frame(text + Array("{}".utf8), pieces: 3, framer: Framer(maxTokens: 10))
        #expect(refused.count == 2)
        if case .error(let error) = refused.first { #expect(error.code == .tooManyTokens) } else { Issue.record("no error") }
        #expect(refused.last == .message(Array("{}".utf8)))
    }

    @Test func agentTokenLimitIsQEMUs() {
        // qemu-ga 7.2 takes a message of 2097152 tokens and refuses one of 2097153 (measured).
        #expect(Framer.agentMaxTokens == 2_097_152)
        let atLimit = Self.tokens(2_097_152)
        #expect(messages(frame(atLimit, pieces: 65536)).count == 1)
        let over = Array("[[[]".utf8) + atLimit.dropFirst(3) + Array("]".utf8)  // two tokens more
        let events = frame(over + Array("{}".utf8), pieces: 65536)
        #expect(events.count == 2)
        if case .error(let error) = events.first { #expect(error.code == .tooManyTokens) } else { Issue.record("no error") }
        #expect(events.last == .message(Array("{}".utf8)))
    }

    @Test func amplifyingRequestIsRefusedEarlyAndSkipped() {
        // 24 MiB of [0], (the shape that drove qgad to 1.4 GiB): refused after 2 Mi tokens,
        // about 8 MiB in, and the rest skipped without being stored.
        var framer = Framer()
        var events = framer.feed(Array(#"{"execute":"guest-ping","arguments":{"a":["#.utf8))
        let block = Array(repeating: Array("[0],".utf8), count: 1 << 16).flatMap { $0 }
        for _ in 0..<96 { events += framer.feed(block) }
        events += framer.feed(Array(#"[0]]}}{"execute":"guest-ping"}"#.utf8))
        #expect(events.count == 2)
        if case .error(let error) = events.first { #expect(error.code == .tooManyTokens) } else { Issue.record("no error") }
        #expect(events.last == .message(Array(#"{"execute":"guest-ping"}"#.utf8)))
    }
}

/// The framer and the parser cross long strings a word at a time: what stops the word scan
/// (a quote, a backslash, a control character, a byte of 0x80 and above, 0xFE and 0xFF) must
/// be found at every offset within a word, and a split at every offset must not matter.
@Suite struct LongStringScanTests {
    /// Specials that end or change a string, each at offsets 0 to 17 of a long plain run.
    static let specials: [(name: String, bytes: [UInt8])] = [
        ("escaped quote", Array(#"\""#.utf8)), ("escaped backslash", Array(#"\\"#.utf8)),
        ("single quote", Array("'".utf8)), ("tab", [0x09]), ("e acute", Array("é".utf8)),
        ("euro", Array("€".utf8)), ("unicode escape", Array(#"\u00e9"#.utf8)),
    ]

    static func message(_ special: [UInt8], at offset: Int, length: Int = 40) -> [UInt8] {
        let plain = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var body: [UInt8] = (0..<offset).map { plain[$0 % plain.count] }
        body += special
        body += (0..<length).map { plain[($0 * 7) % plain.count] }
        return Array(#"{"execute": "guest-file-write", "arguments": {"buf-b64": ""#.utf8) + body + Array(#""}}"#.utf8)
    }

    @Test func framerFindsEverySpecialAtEveryOffset() {
        for special in LongStringScanTests.specials {
            for offset in 0..<18 {
                let text = LongStringScanTests.message(special.bytes, at: offset)
                // Byte by byte is the reference: a one-byte feed never takes the word scan.
                let reference = frame(text + text, pieces: 1)
                #expect(reference.count == 2, "\(special.name) at \(offset)")
                for size in [3, 8, 13, 4096] {
                    #expect(frame(text + text, pieces: size) == reference, "\(special.name) at \(offset), pieces of \(size)")
                }
            }
        }
    }

    @Test func aResetByteInsideALongStringStillResets() {
        for byte in [Framer.delimiterByte, Framer.resetByte] {
            for offset in 0..<18 {
                let broken = Array(LongStringScanTests.message([byte], at: offset).prefix(while: { $0 != byte })) + [byte]
                let next = Array(#"{"execute": "guest-ping"}"#.utf8)
                let events = frame(broken + next, pieces: 4096)
                #expect(events == frame(broken + next, pieces: 1), "0x\(String(byte, radix: 16)) at \(offset)")
                #expect(events.last == .message(next), "0x\(String(byte, radix: 16)) at \(offset)")
            }
        }
    }

    @Test func parserDecodesEverySpecialAtEveryOffset() throws {
        // A raw tab is a control character, which the parser refuses (tested below).
        for special in LongStringScanTests.specials where special.name != "tab" {
            let expected = String(decoding: special.bytes, as: UTF8.self)
                .replacingEscapes()
            for offset in 0..<18 {
                let text = LongStringScanTests.message(special.bytes, at: offset)
                let value = try JSONParser.parse(text, singleQuotes: true)
                let string = try #require(value["arguments"]?["buf-b64"]?.string, "\(special.name) at \(offset)")
                let plain = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
                let prefix = String(decoding: (0..<offset).map { plain[$0 % plain.count] }, as: UTF8.self)
                #expect(string.hasPrefix(prefix + expected), "\(special.name) at \(offset)")
                #expect(string.utf8.count == offset + expected.utf8.count + 40, "\(special.name) at \(offset)")
            }
        }
    }

    @Test func parserRefusesARawControlCharacterOrBadUTF8AtEveryOffset() {
        for bad: [UInt8] in [[0x09], [0x0A], [0x01], [0x1F], [0xC3], [0x80], [0xED, 0xA0, 0x80]] {
            for offset in 0..<18 {
                let text = LongStringScanTests.message(bad, at: offset)
                #expect(throws: ProtocolError.self, "\(bad) at \(offset)") { try JSONParser.parse(text) }
            }
        }
    }

    @Test func parserFindsTheEndOfAStringAtEveryOffset() throws {
        for length in 0..<40 {
            let body = String(repeating: "x", count: length)
            #expect(try JSONParser.parse(Array(#"["\#(body)", 'y']"#.utf8), singleQuotes: true) == [.string(body), "y"])
            #expect(throws: ProtocolError.self) { try JSONParser.parse(Array(#"["\#(body)"#.utf8)) }
        }
    }
}

extension String {
    /// The few JSON escapes the scan tests use, decoded.
    fileprivate func replacingEscapes() -> String {
        switch self {
        case #"\""#: "\""
        case #"\\"#: "\\"
        case #"\u00e9"#: "é"
        default: self
        }
    }
}
