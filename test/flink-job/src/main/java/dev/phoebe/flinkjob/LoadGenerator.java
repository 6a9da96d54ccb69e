package dev.phoebe.flinkjob;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Replays a bundled trace (config/traces/*.csv: `timestamp|value`, one row per second) into a
 * Kafka topic, time-compressed and scaled, and writes what it sent in each wall-clock second.
 *
 * Wall second w stands for trace seconds [offset + w·compression, offset + (w+1)·compression);
 * its target rate is the mean of those rows × scale. Within a second the records are spread
 * evenly (checked every few ms against the cumulative target), so the rate is smooth enough for
 * per-second comparisons with Prometheus.
 *
 * Records: key `k<seq mod keys>` (1000 keys by default: with few keys, Flink's 128 key groups
 * split unevenly between subtasks and the hottest one caps the job's capacity), value
 * `seq,key,sendMillis[,padding]`, padded with `x` to --record-bytes when given (Flink buffers 32 KiB network segments: with 30-byte records tens of
 * thousands of records fit in flight between two tasks, hiding a backlog from the source's
 * pendingRecords; realistic record sizes keep that to hundreds). seq starts at --first-seq so that
 * several runs into one topic cover one contiguous range (the exactly-once check reads it).
 * The idempotent producer (acks=all) keeps retries from duplicating input.
 *
 * Per-second log (--log): `second,traceSecond,targetRate,sent`. Last stdout line: a JSON summary.
 */
public final class LoadGenerator {
    private LoadGenerator() {}

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(argv);
        String bootstrap = args.required("bootstrap-servers");
        String topic = args.get("topic", "input");
        double[] trace = readTrace(Path.of(args.required("trace")));
        double compression = args.getDouble("compression", 60);
        double scale = args.getDouble("scale", 0.01);
        long traceOffset = args.getLong("trace-offset-seconds", 0);
        int durationSeconds = (int) args.getLong("duration-seconds", 60);
        long firstSeq = args.getLong("first-seq", 0);
        int keys = (int) args.getLong("keys", 1000);
        int recordBytes = (int) args.getLong("record-bytes", 0);
        Path log = Path.of(args.get("log", "generator.csv"));

        double[] rates = new double[durationSeconds];
        for (int w = 0; w < durationSeconds; w++) rates[w] = scale * meanRate(trace, traceOffset, compression, w);

        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "phoebe-load-generator");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());

        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstError = new AtomicReference<>();
        long[] sentPerSecond = new long[durationSeconds];
        long seq = firstSeq;
        long start = System.nanoTime();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props);
             PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8))) {
            out.println("second,traceSecond,targetRate,sent");
            double cumulativeBefore = 0; // target records of all completed seconds
            int second = 0;
            long sentTotal = 0;
            // Bounded: ends after durationSeconds of wall time.
            while (second < durationSeconds) {
                double elapsed = (System.nanoTime() - start) / 1e9;
                int nowSecond = (int) Math.floor(elapsed);
                while (second < nowSecond && second < durationSeconds) {
                    // Close the finished second: top it up to its full target first.
                    long due = Math.round(cumulativeBefore + rates[second]) - sentTotal;
                    for (long i = 0; i < due; i++, seq++) send(producer, topic, seq, keys, recordBytes, acked, failed, firstError);
                    sentTotal += Math.max(0, due);
                    sentPerSecond[second] += Math.max(0, due);
                    cumulativeBefore += rates[second];
                    out.printf("%d,%d,%.1f,%d%n", second, traceOffset + (long) Math.floor(second * compression),
                            rates[second], sentPerSecond[second]);
                    out.flush();
                    second++;
                }
                if (second >= durationSeconds) break;
                double fraction = elapsed - second;
                long due = Math.round(cumulativeBefore + rates[second] * fraction) - sentTotal;
                for (long i = 0; i < due; i++, seq++) send(producer, topic, seq, keys, recordBytes, acked, failed, firstError);
                if (due > 0) {
                    sentTotal += due;
                    sentPerSecond[second] += due;
                }
                Thread.sleep(5);
            }
            producer.flush();
        }
        long sent = seq - firstSeq;
        System.out.printf("{\"sent\":%d,\"acked\":%d,\"failed\":%d,\"firstSeq\":%d,\"nextSeq\":%d,\"seconds\":%d,\"error\":%s}%n",
                sent, acked.get(), failed.get(), firstSeq, seq, durationSeconds,
                firstError.get() == null ? "null" : json(firstError.get().toString()));
        if (failed.get() > 0) System.exit(2);
    }

    private static void send(KafkaProducer<String, String> producer, String topic, long seq, int keys, int recordBytes,
                             AtomicLong acked, AtomicLong failed, AtomicReference<Exception> firstError) {
        String key = "k" + (seq % keys);
        String value = seq + "," + key + "," + System.currentTimeMillis();
        if (value.length() + 1 < recordBytes) value = value + "," + "x".repeat(recordBytes - value.length() - 1);
        producer.send(new ProducerRecord<>(topic, key, value), (metadata, error) -> {
            if (error == null) {
                acked.incrementAndGet();
            } else {
                failed.incrementAndGet();
                firstError.compareAndSet(null, error);
            }
        });
    }

    /** Mean trace value over wall second w's window (at least one row; the trace wraps). */
    static double meanRate(double[] trace, long offset, double compression, int w) {
        long from = offset + (long) Math.floor(w * compression);
        long to = Math.max(from + 1, offset + (long) Math.floor((w + 1) * compression));
        double sum = 0;
        for (long i = from; i < to; i++) sum += trace[(int) (i % trace.length)];
        return sum / (to - from);
    }

    static double[] readTrace(Path file) throws IOException {
        List<Double> values = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] parts = line.trim().split("\\|");
            if (parts.length != 2) continue;
            try {
                values.add(Double.parseDouble(parts[1]));
            } catch (NumberFormatException header) {
                // the `timestamp|value` header
            }
        }
        if (values.isEmpty()) throw new IllegalArgumentException("no rows in " + file);
        double[] result = new double[values.size()];
        for (int i = 0; i < result.length; i++) result[i] = values.get(i);
        return result;
    }

    static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
    }
}
