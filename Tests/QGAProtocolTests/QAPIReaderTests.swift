import QAPISchema
import QGAProtocol
import Testing

/// The generator's reader of QEMU's QAPI dialect, on small inline schemas.
@Suite struct QAPIReaderTests {
    @Test func readsCommandsAcrossCommentsAndSingleQuotes() throws {
        let schema = try QAPISchema(
            parsing: """
                # -*- Mode: Python -*-
                { 'pragma': { 'doc-required': true } }
                ##
                # @ping:
                #
                # Since: 0.15.0
                ##
                { 'command': 'ping' }   # trailing remark
                ##
                # @read:
                #
                # @count: how much (since 3.0)
                #     since 4.0 in an indented line is prose
                #
                # Since 1.5
                ##
                { 'command': 'read',
                  'data': { 'handle': 'int', '*count': 'int', '*paths': ['str'] },
                  'returns': 'Result', 'success-response': false, 'allow-oob': true,
                  'features': [ 'deprecated', { 'name': 'fs-frozen' } ] }
                { 'command': 'undocumented', 'data': { 'text': 'a#b' } }
                """)
        #expect(schema.commands.map(\.name) == ["ping", "read", "undocumented"])
        #expect(schema.commands[0].since == "0.15.0")
        #expect(
            schema.commands[1]
                == CommandInfo(
                    name: "read", since: "1.5",
                    arguments: [
                        Member("handle", .named("int")), Member("count", .named("int"), optional: true),
                        Member("paths", .array("str"), optional: true),
                    ],
                    returns: .named("Result"), successResponse: false, allowOOB: true,
                    features: ["deprecated", "fs-frozen"]))
        #expect(schema.commands[1].allowedWhileFrozen)
        #expect(schema.commands[2].since == nil)
        #expect(schema.commands[2].arguments == [Member("text", .named("a#b"))])
    }

    @Test func readsSinceWithTrailingText() throws {
        let schema = try QAPISchema(
            parsing: """
                ##
                # Since: 2.2; 'unknown' and all entries below since 2.4
                ##
                { 'enum': 'Bus', 'data': [ 'ide', 'unknown' ] }
                """)
        #expect(schema.types.first?.since == "2.2")
    }

    @Test func readsConditions() throws {
        let schema = try QAPISchema(
            parsing: """
                { 'enum': 'Mode',
                  'data': [ 'none', { 'name': 'merged', 'if': { 'not': 'CONFIG_WIN32' } } ],
                  'if': { 'all': [ 'CONFIG_POSIX', { 'any': [ 'CONFIG_LINUX', 'CONFIG_BSD' ] } ] } }
                { 'struct': 'S', 'base': 'B',
                  'data': { 'plain': 'str', '*linux': { 'type': 'int', 'if': 'CONFIG_LINUX' } } }
                """)
        let mode = SchemaType(
            name: "Mode",
            condition: .all([.config("CONFIG_POSIX"), .any([.config("CONFIG_LINUX"), .config("CONFIG_BSD")])]),
            kind: .enumeration([EnumValue("none"), EnumValue("merged", condition: .not(.config("CONFIG_WIN32")))]))
        #expect(schema.types.first == mode)
        #expect(mode.condition?.holds(for: ["CONFIG_POSIX", "CONFIG_BSD"]) == true)
        #expect(mode.condition?.holds(for: ["CONFIG_LINUX"]) == false)
        #expect(
            schema.types.last?.kind
                == .structure(
                    base: "B",
                    members: [
                        Member("plain", .named("str")),
                        Member("linux", .named("int"), optional: true, condition: .config("CONFIG_LINUX")),
                    ]))
    }

    @Test func readsUnionsAndAlternates() throws {
        let schema = try QAPISchema(
            parsing: """
                { 'union': 'Id', 'base': { 'type': 'Kind' }, 'discriminator': 'type',
                  'data': { 'pci': 'PCI', 'usb': { 'type': 'USB', 'if': 'CONFIG_USB' } } }
                { 'union': 'Named', 'base': 'Base', 'discriminator': 'kind', 'data': {} }
                { 'alternate': 'Whence', 'data': { 'value': 'int', 'name': 'Seek' } }
                """)
        #expect(
            schema.types[0].kind
                == .union(
                    baseType: nil, baseMembers: [Member("type", .named("Kind"))], discriminator: "type",
                    branches: [Variant("pci", .named("PCI")), Variant("usb", .named("USB"), condition: .config("CONFIG_USB"))]))
        #expect(schema.types[1].kind == .union(baseType: "Base", baseMembers: [], discriminator: "kind", branches: []))
        #expect(schema.types[2].kind == .alternate([Variant("value", .named("int")), Variant("name", .named("Seek"))]))
    }

    @Test func keepsOnlyTheTypesCommandsUse() throws {
        let schema = try QAPISchema(
            parsing: """
                { 'struct': 'Unused', 'data': { 'a': 'int' } }
                { 'enum': 'Leaf', 'data': [ 'x' ] }
                { 'struct': 'Inner', 'data': { 'leaf': 'Leaf' } }
                { 'struct': 'Outer', 'data': { 'inner': ['Inner'] } }
                { 'command': 'get', 'returns': ['Outer'] }
                """)
        #expect(schema.types.count == 4)
        #expect(schema.referencedTypes.map(\.name) == ["Leaf", "Inner", "Outer"])
    }

    @Test(arguments: [
        "{ 'command': 'x', 'surprise': true }",
        "{ 'command': 'x', 'data': 'ArgsStruct' }",
        "{ 'widget': 'x' }",
        "{ 'command': 'x', 'data': { 'a': 'int' }",
        "{ 'command': 'x', 'if': { 'maybe': 'CONFIG_X' } }",
        "{ 'command': 'x', 'data': { 'a': ['int', 'str'] } }",
        "'stray'",
    ])
    func refusesWhatItDoesNotKnow(text: String) {
        #expect(throws: QAPIError.self) { try QAPISchema(parsing: text) }
    }
}
