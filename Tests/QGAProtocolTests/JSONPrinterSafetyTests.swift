import QGAProtocol
import Testing

/// The printer against hostile values: deep nesting must not multiply the output, printing
/// must stream, and nothing in a string may act on a terminal or reorder a line.
@Suite struct JSONPrinterSafetyTests {
    /// `inner` wrapped in `depth` single-element arrays.
    static func nested(_ inner: JSONValue, depth: Int) -> JSONValue {
        var value = inner
        for _ in 0..<depth { value = .array([value]) }
        return value
    }

    static func compactSize(_ value: JSONValue) -> Int { JSONPrinter(layout: .compact).bytes(value).count }

    @Test func deepNestingIsCompactPastTheIndentLimit() throws {
        let value = Self.nested(.number(JSONNumber(0)), depth: 1000)
        let pretty = JSONPrinter().bytes(value)
        let widest = pretty.split(separator: 0x0A).map { $0.prefix { $0 == 0x20 }.count }.max() ?? 0
        #expect(widest == 2 * JSONPrinter.indentLimit)
        #expect(pretty.count < 10 * Self.compactSize(value))
        #expect(try JSONParser.parse(pretty) == value)
    }

    @Test func theIndentLimitKeepsShallowRepliesAsTheyWere() throws {
        // Level 6 is the first that stays on one line, with compact spacing.
        let value = try JSONParser.parse(#"[[[[[{"a":[{"b":1,"c":[2]}]}]]]]]"#)
        #expect(JSONPrinter().string(value) == """
            [
              [
                [
                  [
                    [
                      {
                        "a": [{"b":1,"c":[2]}]
                      }
                    ]
                  ]
                ]
              ]
            ]
            """)
    }

    /// The shapes that cost the most newlines and indentation per byte of input, at every
    /// depth around the limit: pretty output stays under ten times the compact text.
    @Test(arguments: [
        "0", "[]", "{}", "[0]", #"{"":0}"#, #"{"":[0]}"#, "[[0]]", #"[{"":0}]"#, "[0,0]", #""""#,
    ])
    func prettyOutputIsASmallMultipleOfTheInput(_ shape: String) throws {
        let element = try JSONParser.parse(shape)
        for depth in 0...(JSONPrinter.indentLimit + 2) {
            let value = Self.nested(.array(Array(repeating: element, count: 200)), depth: depth)
            let ratio = Double(JSONPrinter().bytes(value).count) / Double(Self.compactSize(value))
            #expect(ratio < 10, "\(shape) at depth \(depth): \(ratio)")
        }
    }

    @Test func streamsInBoundedChunks() throws {
        let row: JSONValue = .object(["name": .string(String(repeating: "x", count: 100)), "n": .number(JSONNumber(7))])
        let value: JSONValue = .array(Array(repeating: row, count: 5000))
        for printer in [JSONPrinter(), JSONPrinter(layout: .compact), JSONPrinter(palette: JSONPrinter.Palette())] {
            var chunks: [[UInt8]] = []
            printer.write(value, terminator: [0x0A], chunkSize: 4096) { chunks.append($0) }
            #expect(chunks.count > 10)
            // A chunk is handed on once it reaches the size, so it exceeds it by less than
            // one member of the array.
            #expect(chunks.allSatisfy { $0.count < 4096 + 400 })
            #expect(Array(chunks.joined()) == printer.bytes(value) + [0x0A])
        }
    }

    @Test func aFailingSinkStopsThePrinting() {
        struct Full: Error {}
        let value: JSONValue = .array(Array(repeating: .string(String(repeating: "y", count: 1000)), count: 1000))
        var calls = 0
        #expect(throws: Full.self) {
            try JSONPrinter().write(value, chunkSize: 4096) { (_: [UInt8]) throws(Full) in
                calls += 1
                throw Full()
            }
        }
        #expect(calls == 1)
    }

    static let bidiControls: [UInt32] = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]

    @Test func bidiControlsAndLineSeparatorsAreEscaped() throws {
        for v in Self.bidiControls + [0x2028, 0x2029] {
            let scalar = try #require(Unicode.Scalar(v))
            let text = "evil" + String(Character(scalar)) + "txt"
            let hex = String(v, radix: 16)
            let escaped = "evil\\u" + String(repeating: "0", count: 4 - hex.count) + hex + "txt"
            for printer in [JSONPrinter(), JSONPrinter(layout: .compact), JSONPrinter(layout: .spaced)] {
                let printed = printer.string(.object([text: .string(text)]))
                #expect(!printed.unicodeScalars.contains(scalar), "U+\(hex)")
                #expect(printed.contains("\"\(escaped)\""), "U+\(hex): \(printed)")
                #expect(try JSONParser.parse(printed) == .object([text: .string(text)]))
            }
        }
    }

    @Test func escapingUnsafeTextLeavesOrdinaryTextAlone() {
        var out: [UInt8] = []
        JSONPrinter.writeEscapingUnsafe("a\nqga: b\r\t\u{1B}[2J\u{9B}\u{202E}c \"héllo\" \\ 😀", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"a\nqga: b\r\t\u001b[2J\u009b\u202ec "héllo" \ 😀"#)
    }

    @Test func unsafeCharacters() throws {
        let unsafe: [UInt32] = Array(0..<0x20) + Array(0x7F..<0xA0) + Self.bidiControls + [0x2028, 0x2029]
        for v in unsafe { #expect(JSONPrinter.isUnsafe(try #require(Unicode.Scalar(v))), "U+\(String(v, radix: 16))") }
        for v: UInt32 in [0x20, 0x41, 0x7E, 0xA0, 0xE9, 0x061B, 0x200D, 0x2027, 0x202F, 0x2065, 0x206A, 0xFEFF, 0x1F600] {
            #expect(!JSONPrinter.isUnsafe(try #require(Unicode.Scalar(v))), "U+\(String(v, radix: 16))")
        }
    }
}
