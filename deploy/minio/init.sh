#!/bin/sh
# MinIO's one-shot setup: the gateway's bucket and the agency's access key with rights on that
# bucket only. Idempotent: safe on every `docker compose up`.
set -eu
mc alias set everest "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "everest/$EVEREST_S3_BUCKET"
mc version enable "everest/$EVEREST_S3_BUCKET" >/dev/null 2>&1 || true
policy=/tmp/everest-agency-policy.json
cat >"$policy" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
     "Resource": ["arn:aws:s3:::$EVEREST_S3_BUCKET"]},
    {"Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts"],
     "Resource": ["arn:aws:s3:::$EVEREST_S3_BUCKET/*"]}
  ]
}
JSON
mc admin policy create everest everest-agency "$policy" >/dev/null 2>&1 \
  || mc admin policy add everest everest-agency "$policy" >/dev/null
mc admin user add everest "$EVEREST_S3_ACCESS_KEY" "$EVEREST_S3_SECRET_KEY" >/dev/null
mc admin policy attach everest everest-agency --user "$EVEREST_S3_ACCESS_KEY" >/dev/null 2>&1 || true
echo "bucket $EVEREST_S3_BUCKET ready; agency key $EVEREST_S3_ACCESS_KEY attached to everest-agency"
