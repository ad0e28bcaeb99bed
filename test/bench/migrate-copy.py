"""The peer of the migration bench: a straightforward Python copy, as a user would write it with
pymilvus: the same schema and index in the target, then query_iterator on the source and insert
into the target with the same batch size, then a Strong count. Prints one JSON line with the time.
Usage: migrate-copy.py SOURCE_DB TARGET_URI COLLECTION BATCH_SIZE
"""
import json
import sys
import time

from pymilvus import DataType, MilvusClient

source_db, target_uri, name, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
started = time.perf_counter()
src = MilvusClient(source_db)
dst = MilvusClient(target_uri)
if dst.has_collection(name):
    dst.drop_collection(name)
schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
schema.add_field('id', DataType.INT64, is_primary=True)
schema.add_field('vector', DataType.FLOAT_VECTOR, dim=128)
index = MilvusClient.prepare_index_params()
index.add_index(field_name='vector', index_type='FLAT', metric_type='L2')
dst.create_collection(name, schema=schema, index_params=index)
src.load_collection('bench')
it = src.query_iterator('bench', batch_size=batch, output_fields=['id', 'vector'])
copied = 0
while True:
    rows = it.next()
    if not rows:
        it.close()
        break
    dst.insert(name, rows)
    copied += len(rows)
count = dst.query(name, filter='', output_fields=['count(*)'], consistency_level='Strong')[0]['count(*)']
elapsed = time.perf_counter() - started
print(json.dumps({'rows': copied, 'count': count, 'seconds': elapsed}))
