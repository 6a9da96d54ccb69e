package dev.phoebe.flinkjob;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * `--name value` command-line arguments. Hand-written because Flink's ParameterTool moved
 * package between 1.20 and 2.x, and the tools here must not need Flink on their class path.
 */
final class Args {
    private final Map<String, List<String>> values = new HashMap<>();

    static Args parse(String[] args) {
        Args parsed = new Args();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got: " + arg);
            }
            parsed.values.computeIfAbsent(arg.substring(2), k -> new ArrayList<>()).add(args[++i]);
        }
        return parsed;
    }

    String required(String name) {
        List<String> list = values.get(name);
        if (list == null || list.isEmpty()) throw new IllegalArgumentException("missing --" + name);
        return list.get(list.size() - 1);
    }

    String get(String name, String fallback) {
        List<String> list = values.get(name);
        return list == null || list.isEmpty() ? fallback : list.get(list.size() - 1);
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    long getLong(String name, long fallback) {
        return Long.parseLong(get(name, Long.toString(fallback)));
    }

    double getDouble(String name, double fallback) {
        return Double.parseDouble(get(name, Double.toString(fallback)));
    }
}
