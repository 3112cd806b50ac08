import QGAProtocol
import Testing

@Suite struct JSONParserTests {
    @Test func keepsKeyOrder() throws {
        let value = try JSONParser.parse(#"{"z": 1, "a": 2, "m": {"y": [], "b": {}}}"#)
        #expect(value.object?.keys == ["z", "a", "m"])
        #expect(value["m"]?.object?.keys == ["y", "b"])
    }

    @Test(arguments: ["18446744073709551615", "-0", "1e400", "0.1", "-12.5E-3", "123456789012345678901234567890"])
    func keepsExactNumberText(text: String) throws {
        let value = try JSONParser.parse("[\(text)]")
        #expect(value.array?.first?.number?.text == text)
        #expect(JSONPrinter(layout: .compact).string(value) == "[\(text)]")
    }

    @Test func uint64SurvivesTheRoundTrip() throws {
        let value = try JSONParser.parse(#"{"total-bytes": 18446744073709551615}"#)
        #expect(value["total-bytes"]?.number?.uint64 == UInt64.max)
    }

    @Test(arguments: ["01", "1.", ".5", "-", "1e", "+1", "0x10", "NaN", "Infinity"])
    func rejectsInvalidNumbers(text: String) {
        #expect(throws: ProtocolError.self) { try JSONParser.parse("[\(text)]") }
    }

    @Test func decodesEveryEscape() throws {
        let value = try JSONParser.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac""#)
        #expect(value.string == "\"\\/\u{8}\u{C}\n\r\tAé€")
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#).string == "😀")
        #expect(try JSONParser.parse(#""\uD834\uDD1E""#).string == "𝄞")
    }

    @Test(arguments: [#""\ud83d""#, #""\ude00""#, #""\ud83dx""#, #""\ud83d\u0041""#])
    func rejectsLoneSurrogates(text: String) {
        #expect(throws: ProtocolError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        for bad: [UInt8] in [[0x22, 0xC3, 0x28, 0x22], [0x22, 0xFE, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22]] {
            #expect(throws: ProtocolError(.invalidUTF8, "invalid UTF-8 sequence in string", offset: 0)) {
                try JSONParser.parse(bad)
            }
        }
    }

    @Test func rejectsRawControlCharactersInStrings() {
        #expect(throws: ProtocolError.self) { try JSONParser.parse("\"a\u{1}b\"") }
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 1024) + String(repeating: "]", count: 1024)
        _ = try JSONParser.parse(ok)
        let tooDeep = String(repeating: "[", count: 1025) + String(repeating: "]", count: 1025)
        #expect {
            try JSONParser.parse(tooDeep)
        } throws: { ($0 as? ProtocolError)?.code == .nestingTooDeep }
        // Deep enough to overflow any recursive parser's stack.
        let hostile = String(repeating: "{\"a\":", count: 200_000)
        #expect { try JSONParser.parse(hostile) } throws: { ($0 as? ProtocolError)?.code == .nestingTooDeep }
    }

    @Test(arguments: ["", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "[1 2]", "tru", "{} x", "{'a':1}", "{a:1}"])
    func rejectsMalformedText(text: String) {
        #expect(throws: ProtocolError.self) { try JSONParser.parse(text) }
    }

    /// QEMU's parser refuses a duplicate key in any object; so do both dialects (qemu-ga never
    /// sends one, so a reply with one is a protocol violation). Large objects use a set.
    @Test(arguments: [#"{"a":1,"a":2}"#, #"{"x":[{"b":1,"c":2,"b":3}]}"#, #"{"a":{},"a":{}}"#])
    func refusesDuplicateKeysAtAnyLevel(text: String) throws {
        for qemu in [false, true] {
            #expect { try JSONParser.parse(text, singleQuotes: qemu) } throws: {
                ($0 as? ProtocolError)?.message == "duplicate key"
            }
        }
        let many = "{" + (0..<100).map { #""k\#($0)":0"# }.joined(separator: ",")
        #expect(try JSONParser.parse(many + "}").object?.count == 100)
        #expect { try JSONParser.parse(many + #","k57":1}"#) } throws: { ($0 as? ProtocolError)?.message == "duplicate key" }
        // As QEMU: an error inside the second value is found before the duplicate.
        #expect { try JSONParser.parse(#"{"a":1,"a":[1 2]}"#) } throws: { ($0 as? ProtocolError)?.message == "expected separator in list" }
    }
}

/// qemu-ga's words for the first error in a malformed message (QEMU's json-parser.c, and
/// json-lexer.c's "stray" tokens, which win over any syntax error in the same message).
@Suite struct JSONParserQEMUErrorTests {
    @Test(arguments: [
        (#"{"execute":}"#, "expecting value"),
        (#"{"execute" "guest-ping"}"#, "missing : in object pair"),
        (#"{"execute":"guest-ping",}"#, "expecting value"),
        ("{,}", "expecting value"),
        ("[1,]", "expecting value"),
        ("}", "expecting value"),
        (#"{"a":1 "b":2}"#, "expected separator in dict"),
        ("[1 2]", "expected separator in list"),
        (#"{"a":1]"#, "expected separator in dict"),
        ("{1:2}", "key is not a string in object"),
        (#"{{"a" 1}:2}"#, "missing : in object pair"),
        ("[tru]", "invalid keyword 'tru'"),
        ("[truex]", "invalid keyword 'truex'"),
        ("garbage", "invalid keyword 'garbage'"),
        (#"{"execute":"guest-\qing"}"#, "invalid escape sequence in string"),
        (#"["\ud800"]"#, "\\ud800 is not a valid Unicode character"),
        (#"["\uDC00x"]"#, "\\uDC00 is not a valid Unicode character"),
        (#"["\ud800\u0041"]"#, "\\ud800 is not a valid Unicode character"),
        (#"["\u12"]"#, #"\u12" is not a valid Unicode character"#),
        (#"["\uffff"]"#, "\\uffff is not a valid Unicode character"),
        (#"["\udbff\udfff"]"#, "\\udbff\\udfff is not a valid Unicode character"),
        (#"{"a":01}"#, "stray '01'"),
        (#"{"a" "b":01}"#, "stray '01'"),
        ("[1.]", "stray '1.]'"),
        ("[-x]", "stray '-x'"),
        ("{\"execute\":\"guest-\nping\"}", "stray '\"guest-\n'"),
        ("[\"a\u{0}b\"]", "stray '\"a'"),
        ("[True]", "stray 'T'"),
    ])
    func firstErrorAsQEMU(text: String, expected: String) {
        #expect { try JSONParser.parse(text, singleQuotes: true) } throws: { ($0 as? ProtocolError)?.message == expected }
    }

    @Test func invalidUTF8BeforeABadEscapeIsReportedFirst() {
        let bytes: [UInt8] = [0x5B, 0x22, 0xC3, 0x28, 0x5C, 0x71, 0x22, 0x5D]  // ["\xC3(\q"]
        #expect(throws: ProtocolError(.invalidUTF8, "invalid UTF-8 sequence in string", offset: 1)) {
            try JSONParser.parse(bytes, singleQuotes: true)
        }
    }

    @Test func longKeywordsAreCutAsQEMUCutsThem() {
        let word = String(repeating: "x", count: 2000)
        #expect { try JSONParser.parse("[\(word)]", singleQuotes: true) } throws: {
            ($0 as? ProtocolError)?.message == "invalid keyword '" + String(repeating: "x", count: 1023 - 17)
        }
    }

    @Test func firstTokenOfJunk() throws {
        #expect(try JSONParser.parseFirstAsQEMU(Array(#""text"x"#.utf8)) == "text")
        #expect(try JSONParser.parseFirstAsQEMU(Array("42x".utf8)) == 42)
        #expect { try JSONParser.parseFirstAsQEMU(Array("garbage".utf8)) } throws: { ($0 as? ProtocolError)?.message == "invalid keyword 'garbage'" }
    }
}

/// What QEMU's parser takes beyond RFC 8259, behind `singleQuotes`, and the token limit.
@Suite struct JSONParserQEMUTests {
    @Test func singleQuotedStringsWhenAsked() throws {
        let value = try JSONParser.parse(#"{'execute': 'guest-ping', "id": 'it"s \' \u0041\n'}"#, singleQuotes: true)
        #expect(value["execute"] == "guest-ping")
        #expect(value["id"] == .string("it\"s ' A\n"))
        // QEMU takes \' in double quotes too.
        #expect(try JSONParser.parse(#"["a\'b"]"#, singleQuotes: true) == ["a'b"])
        #expect(throws: ProtocolError.self) { try JSONParser.parse(#"['a\x']"#, singleQuotes: true) }
        #expect(throws: ProtocolError.self) { try JSONParser.parse(#"['unterminated]"#, singleQuotes: true) }
    }

    @Test(arguments: [#"{'a': 1}"#, #"['x']"#, #"["a\'b"]"#])
    func strictByDefault(text: String) {
        // The host parses agent replies strictly: qemu-ga never writes single quotes.
        #expect(throws: ProtocolError.self) { try JSONParser.parse(text) }
    }

    @Test func tokenLimitIsExact() throws {
        // {"a":[1,true]} is 9 tokens.
        let text = #"{"a": [1, true]}"#
        #expect(try JSONParser.parse(text, maxTokens: 9)["a"] == [1, true])
        #expect { try JSONParser.parse(text, maxTokens: 8) } throws: { ($0 as? ProtocolError)?.code == .tooManyTokens }
        #expect { try JSONParser.parse("[[],[],[]]", maxTokens: 9) } throws: { ($0 as? ProtocolError)?.code == .tooManyTokens }
        #expect(try JSONParser.parse("[[],[],[]]", maxTokens: 10) == [[], [], []])
    }

    @Test func defaultTokenLimitIsQEMUs() throws {
        // [[], 0, 0, …]: 4 tokens, then 2 per element.
        func text(_ tokens: Int) -> [UInt8] {
            Array("[[]".utf8) + Array(repeating: Array(",0".utf8), count: (tokens - 4) / 2).flatMap { $0 } + [UInt8(ascii: "]")]
        }
        #expect(try JSONParser.parse(text(2_097_152)).array?.count == 1_048_575)
        #expect { try JSONParser.parse(text(2_097_154)) } throws: { ($0 as? ProtocolError)?.code == .tooManyTokens }
    }
}

@Suite struct JSONPrinterTests {
    @Test func prettyPrintsLikeJq() throws {
        let value = try JSONParser.parse(#"{"b":[1,{"c":null}],"a":{},"e":[],"t":true}"#)
        #expect(JSONPrinter().string(value) == """
            {
              "b": [
                1,
                {
                  "c": null
                }
              ],
              "a": {},
              "e": [],
              "t": true
            }
            """)
    }

    @Test func compactIsOneLine() throws {
        let value = try JSONParser.parse(#" { "b" : [ 1 , 2 ] , "a" : "x y" } "#)
        #expect(JSONPrinter(layout: .compact).string(value) == #"{"b":[1,2],"a":"x y"}"#)
    }

    @Test func escapesTerminalControlCharacters() throws {
        let hostile = try JSONParser.parse(#""\u001b[31mred\u0007\u009b2J\u007f""#)
        let printed = JSONPrinter().string(hostile)
        #expect(printed == #""\u001b[31mred\u0007\u009b2J\u007f""#)
        #expect(!printed.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
    }

    @Test func keepsNonASCIIText() throws {
        #expect(JSONPrinter().string(.string("héllo 😀")) == "\"héllo 😀\"")
    }

    @Test func roundTripsThroughTheParser() throws {
        let text = #"{"a":[1,-0,1e400,"\n\"\\",{"b":false}],"c":null}"#
        #expect(JSONPrinter(layout: .compact).string(try JSONParser.parse(text)) == text)
        let pretty = JSONPrinter().string(try JSONParser.parse(text))
        #expect(try JSONParser.parse(pretty) == JSONParser.parse(text))
    }
}

@Suite struct MessageTests {
    @Test func requestEncodesInOrder() {
        let request = Request("guest-file-read", arguments: ["handle": 1000, "count": 4096], id: 5)
        #expect(String(decoding: request.encoded, as: UTF8.self)
            == #"{"execute":"guest-file-read","arguments":{"handle":1000,"count":4096},"id":5}"#)
    }

    @Test func requestFromJSONRefusesUnknownMembers() throws {
        #expect(try Request(JSONParser.parse(#"{"execute":"guest-ping"}"#)).execute == "guest-ping")
        #expect(throws: ProtocolError.self) { try Request(JSONParser.parse(#"{"execute":"x","bogus":1}"#)) }
        #expect(throws: ProtocolError.self) { try Request(JSONParser.parse(#"{"arguments":{}}"#)) }
        #expect(throws: ProtocolError.self) { try Request(JSONParser.parse(#"[1]"#)) }
    }

    @Test func repliesAreInterpreted() throws {
        #expect(try Incoming(JSONParser.parse(#"{"return": {}, "id": 3}"#)) == .success([:], id: 3))
        #expect(try Incoming(JSONParser.parse(#"{"error": {"class": "CommandNotFound", "desc": "no"}}"#))
            == .failure(AgentError(errorClass: "CommandNotFound", desc: "no"), id: nil))
        #expect(try Incoming(JSONParser.parse(#"{"event": "X", "data": {}}"#)) == .event("X"))
        #expect(throws: ProtocolError.self) { try Incoming(JSONParser.parse(#"{"foo": 1}"#)) }
        #expect(throws: ProtocolError.self) { try Incoming(JSONParser.parse(#"42"#)) }
    }
}

@Suite struct Base64Tests {
    @Test(arguments: ["", "f", "fo", "foo", "foob", "fooba", "foobar"])
    func roundTrips(text: String) {
        let encoded = Base64.encode(Array(text.utf8))
        #expect(Base64.decode(encoded) == Array(text.utf8))
    }

    @Test func knownValues() {
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fooba".utf8)) == "Zm9vYmE=")
        #expect(Base64.encode(Array("foob".utf8)) == "Zm9vYg==")
        #expect(Base64.decode("Zm9v\nYmE=") == Array("fooba".utf8))
        #expect(Base64.decode("!!!") == nil)
        #expect(Base64.decode("Zm9vY") == nil)
        // Four characters at a time where it can, one at a time around the rest.
        #expect(Base64.decode("Zm\r\n9vYm Fy") == Array("foobar".utf8))
        #expect(Base64.decode("Zm9v=YmFy") == nil)
        #expect(Base64.decode("Zm9vYmFy" + String(repeating: "QUJD", count: 100) + "!QUJD") == nil)
        let all = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(all)) == all)
    }

    /// RFC 4648 one bit at a time: the reference for the word-at-a-time coder.
    static func reference(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var bits = 0
        var value = 0
        for byte in bytes {
            value = value << 8 | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[(value >> bits) & 0x3F])
            }
        }
        if bits > 0 { out.append(alphabet[(value << (6 - bits)) & 0x3F]) }
        while out.count % 4 != 0 { out.append("=") }
        return out
    }

    static func pseudoRandom(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test func everyLengthAgainstTheReference() {
        for count in Array(0...64) + [1000, 4095, 4096, 4097, (1 << 20) + 1] {
            let bytes = Base64Tests.pseudoRandom(count, seed: UInt64(count))
            let encoded = Base64.encode(bytes)
            #expect(encoded == Base64Tests.reference(bytes), "\(count) bytes")
            #expect(Base64.decode(encoded) == bytes, "\(count) bytes")
        }
    }

    @Test func decodingAcceptsWhitespaceAndMissingPaddingAnywhere() {
        let bytes = Base64Tests.pseudoRandom(100, seed: 7)
        let encoded = Array(Base64.encode(bytes).utf8)
        for at in 0...encoded.count {
            for space in [" ", "\n", "\r\n", "\t"] {
                let text = String(decoding: encoded[..<at] + Array(space.utf8) + encoded[at...], as: UTF8.self)
                #expect(Base64.decode(text) == bytes, "\(space.debugDescription) at \(at)")
            }
        }
        #expect(Base64.decode("Zm9vYmE") == Array("fooba".utf8))
        #expect(Base64.decode("Zm9vYg") == Array("foob".utf8))
    }

    @Test func decodingRefusesABadCharacterAnywhere() {
        let encoded = Array(Base64.encode(Base64Tests.pseudoRandom(60, seed: 3)).utf8)
        for at in 0..<encoded.count {
            for bad in ["!", "-", "_", "\u{0}", "é", "="] where !(bad == "=" && at >= encoded.count - 1) {
                var text = encoded
                text.replaceSubrange(at..<at + 1, with: Array(bad.utf8))
                #expect(Base64.decode(String(decoding: text, as: UTF8.self)) == nil, "\(bad) at \(at)")
            }
        }
        // Data after padding, and a lone character in the last group.
        #expect(Base64.decode("Zm8=Zm9v") == nil)
        #expect(Base64.decode("Zm9vYmFyZ") == nil)
    }
}
