"""Files in, text out: uploads, their storage, type sniffing, text extraction and OCR."""
