"""DCAT graphs with rdflib: dataset records to DCAT-AP 3 RDF, and SHACL validation with pyshacl."""
