"""Ingestion of RGB-T, TIR and RGB tracking datasets in their native layouts into Parquet manifests.

`ingest.ingest_dataset` + `ingest.write_result` are the entry points; `schema` defines the three
manifest kinds; `adapters` read the layouts; `table` summarises several ingests;
`frames.load_frame_pair` decodes the images of one manifest row.
"""
