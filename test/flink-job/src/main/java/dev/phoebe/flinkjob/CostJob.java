package dev.phoebe.flinkjob;

import java.util.concurrent.locks.LockSupport;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The job phoebe is tested against: KafkaSource "input" → keyBy(key) → "cost" (a keyed operator
 * whose per-record cost is fixed) → exactly-once KafkaSink "output".
 *
 * Records are the load generator's `seq,key,sendMillis`; the output record is the input record
 * with the key's running count appended, so the output topic can be checked for exactly-once
 * (every seq once) and the keyed state matters for savepoints and rescaling.
 *
 * Vertices: "Source: input" and "cost -> output: Writer -> output: Committer" (the keyBy is the
 * boundary). Operator uids are fixed so a savepoint restores at any parallelism.
 *
 * Arguments (all `--name value`):
 *   bootstrap-servers (required), input, output, group-id, job-name,
 *   cost-micros         per-record cost of one "cost" subtask (capacity = 1e6 / cost records/s)
 *   source-parallelism  0 = unpinned (the job's parallelism), n > 0 = pinned to n
 *   checkpoint-interval-ms, transactional-id-prefix, transaction-timeout-ms
 */
public final class CostJob {
    private CostJob() {}

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(argv);
        String bootstrap = args.required("bootstrap-servers");
        String input = args.get("input", "input");
        String output = args.get("output", "output");
        String jobName = args.get("job-name", "phoebe-cost-job");
        long costMicros = args.getLong("cost-micros", 1000);
        int sourceParallelism = (int) args.getLong("source-parallelism", 0);
        long checkpointMs = args.getLong("checkpoint-interval-ms", 3000);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // Exactly-once mode is the default; the sink commits its Kafka transaction on each
        // completed checkpoint, so the interval bounds the output's visible latency.
        env.enableCheckpointing(checkpointMs);

        KafkaSource<String> source = KafkaSource.<String>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(input)
                // The group id makes the offsets the source commits on each checkpoint visible
                // to Kafka-side lag metrics (kafka_exporter); Flink itself resumes from its state.
                .setGroupId(args.get("group-id", jobName))
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setValueOnlyDeserializer(new SimpleStringSchema())
                .build();

        DataStreamSource<String> records = env.fromSource(source, WatermarkStrategy.noWatermarks(), "input");
        records.uid("input");
        if (sourceParallelism > 0) records.setParallelism(sourceParallelism);

        KafkaSink<String> sink = KafkaSink.<String>builder()
                .setBootstrapServers(bootstrap)
                .setRecordSerializer(KafkaRecordSerializationSchema.<String>builder()
                        .setTopic(output)
                        .setValueSerializationSchema(new SimpleStringSchema())
                        .build())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(args.get("transactional-id-prefix", jobName))
                // Must stay below the broker's transaction.max.timeout.ms (15 min by default);
                // the producer's default (1 h) is refused by a default broker.
                .setProperty("transaction.timeout.ms", args.get("transaction-timeout-ms", "120000"))
                .build();

        records.keyBy(new KeyOf())
                .process(new CostFunction(costMicros))
                .name("cost")
                .uid("cost")
                .sinkTo(sink)
                .name("output")
                .uid("output");

        env.execute(jobName);
    }

    /** The record's key: the second comma-separated field (a class, not a lambda, so Flink can
     *  extract the key type without hints). */
    static final class KeyOf implements KeySelector<String, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(String value) {
            int first = value.indexOf(',');
            int second = first < 0 ? -1 : value.indexOf(',', first + 1);
            if (first < 0) return value;
            return second < 0 ? value.substring(first + 1) : value.substring(first + 1, second);
        }
    }

    /**
     * Costs a fixed `costMicros` per record, by sleeping rather than spinning: a subtask's
     * capacity is then 1e6 / costMicros records/s whatever else runs on the (shared, 2-core)
     * machine, as long as the CPU work per record stays small.
     *
     * Sleeps are paced against an absolute schedule (`nextFreeNanos`) so that timer overshoot is
     * paid back on the following records instead of accumulating; at most MAX_CREDIT of unused
     * time is banked after an idle spell, so an idle subtask does not burst later.
     */
    static final class CostFunction extends KeyedProcessFunction<String, String, String> {
        private static final long serialVersionUID = 1L;
        private static final long MAX_CREDIT_NANOS = 2_000_000L;
        private static final long MIN_SLEEP_NANOS = 200_000L;

        private final long costNanos;
        private transient long nextFreeNanos;
        private transient ValueState<Long> count;

        CostFunction(long costMicros) {
            this.costNanos = costMicros * 1_000L;
        }

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
            nextFreeNanos = System.nanoTime();
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) throws Exception {
            long now = System.nanoTime();
            nextFreeNanos = Math.max(nextFreeNanos, now - MAX_CREDIT_NANOS) + costNanos;
            long wait = nextFreeNanos - now;
            if (wait >= MIN_SLEEP_NANOS) LockSupport.parkNanos(wait);

            Long previous = count.value();
            long next = previous == null ? 1 : previous + 1;
            count.update(next);
            out.collect(value + "," + next);
        }
    }
}
