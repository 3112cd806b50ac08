import QGAProtocol
import Testing

@testable import QGACommands

/// The human views' formatting, in process: sizes as `df -h` writes them, percentages,
/// times, and tables measured on escaped text.
@Suite struct QueryFormattingTests {
    @Test(arguments: [
        (Int64(0), "0"), (1023, "1023"), (1024, "1.0K"), (1025, "1.1K"), (1536, "1.5K"), (10239, "10K"),
        (10240, "10K"), (1_048_575, "1.0M"), (101_443_186_688, "95G"), (Int64.max, "8.0E"),
    ])
    func sizeAsDfWritesIt(_ bytes: Int64, _ text: String) {
        #expect(Human.size(bytes) == text)
    }

    @Test func percentRoundsUpAndNeverTraps() {
        #expect(Human.percent(21_906_350_080, of: 101_443_186_688) == "22%")
        #expect(Human.percent(0, of: 10) == "0%")
        #expect(Human.percent(1, of: 1000) == "1%")
        #expect(Human.percent(5, of: 0) == nil)
        #expect(Human.percent(Int64.max, of: 1) == "1000000000%")
    }

    @Test func timesAndLoads() {
        #expect(Human.utcTime(0) == "1970-01-01 00:00:00")
        #expect(Human.utcTime(1_700_000_000.75) == "2023-11-14 22:13:20")
        #expect(Human.utcTime(.infinity) == nil)
        #expect(Human.utcTime(1e300) == nil)
        #expect(Human.hundredths(0.125) == "0.13")
        #expect(Human.hundredths(12.3) == "12.30")
    }

    @Test func tableMeasuresEscapedTextAndEndsNoLineInSpaces() {
        let lines = Table.lines(header: ["NAME", "N", "LAST"], rows: [["a\u{1B}b", "7", ""], ["c", "123", "x"]], rightAligned: [1])
        #expect(lines == [
            #"NAME        N  LAST"#,
            #"a\u001bb    7"#,
            #"c         123  x"#,
        ])
        #expect(Table.fields([("id", "debian"), ("pretty-name", "D\n"), ("none", nil)]) == ["id:          debian", #"pretty-name: D\n"#])
    }

    /// A guest's offset of any size is a protocol violation, not a trap.
    @Test func timezoneOffsetOutOfRangeIsRefused() throws {
        let command = try Timezone.parse(["/tmp/agent.sock"])
        #expect(throws: (any Error).self) { try command.human(.object(["offset": .number(JSONNumber(Int64.min))]), label: "x") }
        #expect(try command.human(.object(["offset": .number(JSONNumber(-19800)), "zone": .string("X")]), label: "x").lines == ["X (UTC-05:30)"])
    }
}
