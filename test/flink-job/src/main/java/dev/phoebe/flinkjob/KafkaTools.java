package dev.phoebe.flinkjob;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Kafka chores of the real-cluster test, each printing one JSON line on stdout:
 *
 *   create-topics --bootstrap-servers B --topic name:partitions [--topic ...]
 *   verify-output --bootstrap-servers B --topic T --expected N [--timeout-ms M]
 *       reads T with isolation.level=read_committed from the beginning until every seq in
 *       [0, N) has been seen and the committed end is reached (or the timeout), and counts
 *       records, distinct seqs, duplicates, seqs outside [0, N) and missing seqs
 *   offsets --bootstrap-servers B --topic T --group G [--every-ms M --seconds S]
 *       the ground truth for lag: end offsets and the group's committed offsets, summed; with
 *       --every-ms, one line (with "t", epoch ms) every M ms for S seconds, from one JVM (a JVM
 *       start per sample would cost the 2 cores more than the sample is worth)
 */
public final class KafkaTools {
    private KafkaTools() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length == 0) throw new IllegalArgumentException("usage: KafkaTools create-topics|verify-output|offsets ...");
        String[] rest = new String[argv.length - 1];
        System.arraycopy(argv, 1, rest, 0, rest.length);
        Args args = Args.parse(rest);
        switch (argv[0]) {
            case "create-topics" -> createTopics(args);
            case "verify-output" -> verifyOutput(args);
            case "offsets" -> offsets(args);
            default -> throw new IllegalArgumentException("unknown command " + argv[0]);
        }
    }

    private static Admin admin(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return Admin.create(props);
    }

    private static void createTopics(Args args) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        for (String spec : args.all("topic")) {
            String[] parts = spec.split(":");
            topics.add(new NewTopic(parts[0], Integer.parseInt(parts[1]), (short) 1));
        }
        try (Admin admin = admin(args.required("bootstrap-servers"))) {
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
            Map<String, Integer> partitions = new HashMap<>();
            admin.describeTopics(topics.stream().map(NewTopic::name).toList()).allTopicNames().get(60, TimeUnit.SECONDS)
                    .forEach((name, description) -> partitions.put(name, description.partitions().size()));
            System.out.println("{\"created\":{" + partitions.entrySet().stream()
                    .map(e -> LoadGenerator.json(e.getKey()) + ":" + e.getValue())
                    .collect(Collectors.joining(",")) + "}}");
        }
    }

    private static void verifyOutput(Args args) {
        String topic = args.required("topic");
        long expected = args.getLong("expected", 0);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(args.getLong("timeout-ms", 60_000));
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args.required("bootstrap-servers"));
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        BitSet seen = new BitSet();
        long records = 0, duplicates = 0, outside = 0, unparsable = 0;
        boolean complete = false;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // Bounded by the deadline. Done once every expected seq is seen and the positions
            // reached the committed end (for read_committed, endOffsets is the last stable
            // offset), so duplicates committed with the last records are counted too.
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    records++;
                    long seq;
                    try {
                        String value = record.value();
                        seq = Long.parseLong(value.substring(0, value.indexOf(',')));
                    } catch (RuntimeException e) {
                        unparsable++;
                        continue;
                    }
                    if (seq < 0 || seq >= expected) {
                        outside++;
                    } else if (seen.get((int) seq)) {
                        duplicates++;
                    } else {
                        seen.set((int) seq);
                    }
                }
                if (seen.cardinality() >= expected) {
                    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
                    boolean atEnd = partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
                    if (atEnd) {
                        complete = true;
                        break;
                    }
                }
            }
        }
        long distinct = seen.cardinality();
        System.out.printf("{\"records\":%d,\"distinct\":%d,\"duplicates\":%d,\"outside\":%d,\"unparsable\":%d,\"missing\":%d,\"complete\":%b}%n",
                records, distinct, duplicates, outside, unparsable, expected - distinct, complete);
    }

    private static void offsets(Args args) throws Exception {
        String topic = args.required("topic");
        String group = args.required("group");
        long everyMs = args.getLong("every-ms", 0);
        long until = System.currentTimeMillis() + 1000 * args.getLong("seconds", 0);
        try (Admin admin = admin(args.required("bootstrap-servers"))) {
            Set<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().stream().map(p -> new TopicPartition(topic, p.partition()))
                    .collect(Collectors.toSet());
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(p -> latest.put(p, OffsetSpec.latest()));
            do {
                long t = System.currentTimeMillis();
                long end = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).values().stream()
                        .mapToLong(info -> info.offset()).sum();
                Map<TopicPartition, OffsetAndMetadata> committedMap = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                long committed = committedMap.entrySet().stream()
                        .filter(e -> partitions.contains(e.getKey()) && e.getValue() != null)
                        .mapToLong(e -> e.getValue().offset()).sum();
                System.out.printf("{\"t\":%d,\"end\":%d,\"committed\":%d,\"lag\":%d}%n", t, end, committed, end - committed);
                System.out.flush();
                if (everyMs > 0) Thread.sleep(Math.max(0, t + everyMs - System.currentTimeMillis()));
            } while (everyMs > 0 && System.currentTimeMillis() < until);
        }
    }
}
