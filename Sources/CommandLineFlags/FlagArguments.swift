/// How a command line of `--name value` and `--name=value` flags failed to split.
public enum FlagArgumentError: Error, Equatable, Sendable {
    case unknownFlag(String)
    case missingValue(String)
}

/// Splits `arguments` into (flag, value) pairs, in order: `--name value` or `--name=value`, where every flag takes
/// a value. Throws for a name not in `known` and for a flag at the end with no value. Shared by `tickwire serve`
/// and `tickwire bots` so both read the command line the same way.
public func splitFlagArguments(_ arguments: [String], known: Set<String>) throws(FlagArgumentError) -> [(name: String, value: String)] {
    var pairs: [(name: String, value: String)] = []
    var index = 0
    while index < arguments.count {
        var name = arguments[index]
        var value: String?
        if let equals = name.firstIndex(of: "=") {
            value = String(name[name.index(after: equals)...])
            name = String(name[..<equals])
        }
        guard known.contains(name) else { throw .unknownFlag(name) }
        if value == nil {
            index += 1
            guard index < arguments.count else { throw .missingValue(name) }
            value = arguments[index]
        }
        pairs.append((name, value!))
        index += 1
    }
    return pairs
}
