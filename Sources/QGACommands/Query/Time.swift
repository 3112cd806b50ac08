import ArgumentParser
import Glibc
import QGAClient
import QGAProtocol

/// `qga time TARGET [--set TIME | --sync | --from-rtc]`: the guest's clock, read or set.
struct Time: Query {
    static let configuration = CommandConfiguration(
        commandName: "time",
        abstract: "Show the guest's clock, or set it.",
        discussion: """
            Shows the guest's time in UTC and in this host's time zone, and how far it is \
            from the host's clock (taken when the reply is printed, so the round trip is \
            part of it). --set TIME sets the guest's clock to TIME, written as RFC 3339 with \
            its zone (2026-12-02T15:00:00Z, 2026-12-02 16:00:00.25+01:00) or as date(1)'s \
            @SECONDS since the epoch (@1796223600, @-1.5); a time without a zone is refused \
            rather than guessed. --sync sets it to this host's clock, read just before the \
            request is sent. --from-rtc has the guest set its clock from its own hardware \
            clock (qemu-ga runs hwclock -s). After any of them the clock is read back and \
            shown; --json prints guest-get-time's value (nanoseconds since the epoch) \
            unchanged.
            """)
    static let agentCommand = Catalogue.Commands.guestGetTime

    @OptionGroup var options: QueryOptions

    @Option(
        help: ArgumentHelp("Set the guest's clock to TIME: 2026-12-02T15:00:00Z (with a zone) or @SECONDS.", valueName: "time"),
        transform: ClockTime.nanoseconds)
    var set: Int64?

    @Flag(help: "Set the guest's clock to this host's.")
    var sync = false

    @Flag(name: .customLong("from-rtc"), help: "Have the guest set its clock from its hardware clock.")
    var fromRTC = false

    func validate() throws {
        guard [set != nil, sync, fromRTC].filter({ $0 }).count <= 1 else {
            throw ValidationError("--set, --sync and --from-rtc exclude each other")
        }
    }

    /// The arguments of guest-set-time, or nil when the clock is only read: `time` in
    /// nanoseconds for --set, the host's clock at `now` for --sync, none for --from-rtc.
    func setTimeArguments(now: () -> Int64) -> JSONObject?? {
        if let set { return ["time": .number(JSONNumber(set))] }
        if sync { return ["time": .number(JSONNumber(now()))] }
        if fromRTC { return .some(nil) }
        return nil
    }

    func value(on connection: any AgentConnection, arguments: JSONObject?, options: CallOptions) throws -> JSONValue {
        // Per agent, so that --sync reads the host's clock just before each request.
        if let setArguments = setTimeArguments(now: ClockTime.hostNanoseconds) {
            _ = try Self.query(Catalogue.Commands.guestSetTime.name, arguments: setArguments, on: connection, options: options)
        }
        return try Self.query(Self.agentCommand.name, on: connection, options: options)
    }

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        guard let guest = value.number?.int64 else { throw Self.unexpected(value, label: label) }
        let host = ClockTime.hostNanoseconds()
        // Several targets: one row each, with the guest's UTC time and its offset.
        let row = [ClockTime.calendar(guest, local: false) ?? "?", ClockTime.offset(guest, from: host)]
        return HumanView(
            lines: ClockTime.lines(guest: guest, host: host),
            columns: .init(header: ["UTC", "OFFSET"], rows: [row]))
    }
}

/// Times as nanoseconds since the epoch, which is how guest-get-time and guest-set-time
/// carry them: parsed from the command line, read from the host, shown.
enum ClockTime {
    static let nanosecondsPerSecond: Int64 = 1_000_000_000

    /// This host's clock (CLOCK_REALTIME) in nanoseconds since the epoch.
    static func hostNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let (seconds, overflow) = Int64(now.tv_sec).multipliedReportingOverflow(by: nanosecondsPerSecond)
        return overflow ? Int64.max : seconds.addingReportingOverflow(Int64(now.tv_nsec)).partialValue
    }

    /// The lines of `qga time`: the guest's time in UTC and in the host's zone, and its
    /// offset from the host's clock.
    static func lines(guest: Int64, host: Int64) -> [String] {
        Table.fields([
            ("utc", calendar(guest, local: false)),
            ("local", calendar(guest, local: true)),
            ("offset", offset(guest, from: host)),
        ])
    }

    /// `YYYY-MM-DD HH:MM:SS.mmm` in UTC, or in the host's zone with its abbreviation.
    static func calendar(_ nanoseconds: Int64, local: Bool) -> String? {
        // Floor division, so that times before 1970 keep a positive fraction.
        let (quotient, remainder) = nanoseconds.quotientAndRemainder(dividingBy: nanosecondsPerSecond)
        let seconds = remainder < 0 ? quotient - 1 : quotient
        let fraction = remainder < 0 ? remainder + nanosecondsPerSecond : remainder
        var time = time_t(seconds)
        var parts = tm()
        guard (local ? localtime_r(&time, &parts) : gmtime_r(&time, &parts)) != nil else { return nil }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        guard length > 0 else { return nil }
        let milliseconds = fraction / 1_000_000
        var text = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        text += "." + String(String(milliseconds + 1000).dropFirst())
        if local {
            let zoneLength = strftime(&buffer, buffer.count, "%Z", &parts)
            if zoneLength > 0 { text += " " + String(decoding: buffer.prefix(zoneLength).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        } else {
            text += " UTC"
        }
        return text
    }

    /// `guest - host` as signed seconds with milliseconds, and which way the guest is off.
    static func offset(_ guest: Int64, from host: Int64) -> String {
        let (difference, overflow) = guest.subtractingReportingOverflow(host)
        guard !overflow else {
            // Only a guest clock centuries away gets here; whole seconds are plenty.
            let seconds = (Double(guest) - Double(host)) / 1e9
            return "\(seconds < 0 ? "-" : "+")\(Int64(abs(seconds).rounded())) s (the guest is \(seconds < 0 ? "behind" : "ahead of") this host)"
        }
        let (quotient, remainder) = difference.quotientAndRemainder(dividingBy: 1_000_000)
        let milliseconds = quotient + (remainder >= 500_000 ? 1 : remainder <= -500_000 ? -1 : 0)
        let magnitude = milliseconds.magnitude
        let text = "\(milliseconds < 0 ? "-" : "+")\(magnitude / 1000).\(String(String(magnitude % 1000 + 1000).dropFirst())) s"
        if milliseconds == 0 { return text }
        return text + " (the guest is \(milliseconds < 0 ? "behind" : "ahead of") this host)"
    }

    /// TIME of `--set` as nanoseconds since the epoch: `@SECONDS[.FRACTION]` as date(1)
    /// takes it, or RFC 3339 / ISO 8601 `YYYY-MM-DD(T| )HH:MM[:SS[.FRACTION]]` followed by
    /// `Z` or `±HH:MM` (`±HHMM`). A zone is required: a clock set an hour off by a guess
    /// is worse than an error.
    static func nanoseconds(_ text: String) throws -> Int64 {
        let outOfRange = ValidationError("'\(text)' is outside the times a guest clock can take (years 1678 to 2261)")
        var scanner = Scanner(Array(text.utf8))
        let total: (seconds: Int64, fraction: Int64)
        if scanner.skip("@") {
            let negative = scanner.skip("-")
            if !negative { _ = scanner.skip("+") }
            guard let whole = scanner.number(maxDigits: 12) else { throw malformed(text) }
            let fraction = scanner.fraction()
            guard scanner.atEnd, let fraction else { throw malformed(text) }
            total = negative ? (-whole - (fraction > 0 ? 1 : 0), fraction > 0 ? nanosecondsPerSecond - fraction : 0) : (whole, fraction)
        } else {
            guard let year = scanner.number(exactDigits: 4), scanner.skip("-"),
                let month = scanner.number(exactDigits: 2), scanner.skip("-"),
                let day = scanner.number(exactDigits: 2), scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
                let hour = scanner.number(exactDigits: 2), scanner.skip(":"),
                let minute = scanner.number(exactDigits: 2)
            else { throw malformed(text) }
            var second: Int64 = 0
            var fraction: Int64 = 0
            if scanner.skip(":") {
                guard let s = scanner.number(exactDigits: 2), let f = scanner.fraction() else { throw malformed(text) }
                (second, fraction) = (s, f)
            }
            let zone: Int64
            if scanner.skip("Z") || scanner.skip("z") {
                zone = 0
            } else if scanner.atEnd {
                throw ValidationError("'\(text)' has no time zone: add Z for UTC or an offset such as +01:00")
            } else {
                let sign: Int64 = scanner.skip("+") ? 1 : scanner.skip("-") ? -1 : 0
                guard sign != 0, let zoneHour = scanner.number(exactDigits: 2) else { throw malformed(text) }
                _ = scanner.skip(":")
                guard let zoneMinute = scanner.number(exactDigits: 2), zoneHour < 24, zoneMinute < 60 else { throw malformed(text) }
                zone = sign * (zoneHour * 3600 + zoneMinute * 60)
            }
            guard scanner.atEnd, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
                hour < 24, minute < 60, second <= 60
            else { throw malformed(text) }
            // Every part is bounded above (a four-digit year), so no step here can overflow.
            total = (days(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second - zone, fraction)
        }
        let (scaled, overflow) = total.seconds.multipliedReportingOverflow(by: nanosecondsPerSecond)
        let (nanoseconds, sumOverflow) = scaled.addingReportingOverflow(total.fraction)
        guard !overflow, !sumOverflow else { throw outOfRange }
        return nanoseconds
    }

    private static func malformed(_ text: String) -> ValidationError {
        ValidationError("'\(text)' is not a time: write 2026-12-02T15:00:00Z, 2026-12-02 16:00:00+01:00 or @SECONDS")
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        // Counted from 1 March, so that the leap day ends the year.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Reads ASCII digits and punctuation off the front of a time.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Character) -> Bool {
            guard index < bytes.count, let ascii = character.asciiValue, bytes[index] == ascii else { return false }
            index += 1
            return true
        }

        private func isDigit(_ offset: Int) -> Bool {
            index + offset < bytes.count && (0x30...0x39).contains(bytes[index + offset])
        }

        /// Exactly `exactDigits` digits (a digit after them is the next field's).
        mutating func number(exactDigits: Int) -> Int64? {
            guard (0..<exactDigits).allSatisfy(isDigit) else { return nil }
            var value: Int64 = 0
            for _ in 0..<exactDigits {
                value = value * 10 + Int64(bytes[index] - 0x30)
                index += 1
            }
            return value
        }

        /// One to `maxDigits` digits, and no digit after them.
        mutating func number(maxDigits: Int) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while isDigit(0) {
                guard count < maxDigits else { return nil }
                value = value * 10 + Int64(bytes[index] - 0x30)
                index += 1
                count += 1
            }
            return count > 0 ? value : nil
        }

        /// `.DIGITS` as nanoseconds (digits past the ninth are dropped), 0 when there is no
        /// point, nil for a point without digits.
        mutating func fraction() -> Int64? {
            guard skip(".") || skip(",") else { return 0 }
            guard isDigit(0) else { return nil }
            var value: Int64 = 0
            var count = 0
            while isDigit(0) {
                if count < 9 {
                    value = value * 10 + Int64(bytes[index] - 0x30)
                    count += 1
                }
                index += 1
            }
            for _ in count..<9 { value *= 10 }
            return value
        }
    }
}
